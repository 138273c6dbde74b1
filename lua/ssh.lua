---@meta
-- `labrun.ssh`: the lab's SSH keys (kept with the lab), nodes, connections.

labrun.ssh = {}

---The lab's user key (Ed25519), generated once and kept with the lab.
---@return { public: string, fingerprint: string }
function labrun.ssh.user_key() end

---A node's host key, generated before the node exists (write it with Ignition).
---@param node string
---@return { public: string, private: string, fingerprint: string }
function labrun.ssh.host_key(node) end

---Declares a node reachable once the lab is up: written to the lab's
---ssh_config and known_hosts, usable in after-up steps and `labrun ssh`.
---@param name string
---@param opts { host: string|AttrRef, port?: integer, user?: string, jump?: string, host_key: string }
function labrun.ssh.node(name, opts) end

---Where `labrun proxy LAB` serves this lab: "socks5://127.0.0.1:PORT", the port the
---same for the lab's name every time. A kubeconfig naming it as `proxy_url` reaches a
---private API server through the lab's SSH connection while the proxy runs.
---@return string
function labrun.ssh.proxy_url() end

---@class SshHop
---@field host string
---@field port? integer
---@field user? string      default "core"
---@field host_key string   the only key accepted

---Connects (lazily) to a host through zero or more jump hosts.
---@param opts SshHop|{ jump?: SshHop[], key?: string, timeout?: number }
---@return SshNode
function labrun.ssh.connect(opts) end

---@class SshResult
---@field stdout string
---@field stderr string
---@field status integer
---@field ok boolean

---@class SshNode
local SshNode = {}
---Runs a command; fails on a non-zero status unless `check = false`.
---@param cmd string
---@param opts? { stdin?: string, timeout?: number, check?: boolean }
---@return SshResult
function SshNode:run(cmd, opts) end
---Writes a file atomically (mode "0644" by default), through sudo if asked.
---@param path string
---@param contents string
---@param opts? { mode?: string, sudo?: boolean }
function SshNode:put(path, contents, opts) end
---Opens an interactive shell on the node with the system ssh and the lab's
---ssh_config (the REPL's nodes); returns ssh's exit status.
---@return integer|nil
function SshNode:shell() end
---Reads a file.
---@param path string
---@param opts? { sudo?: boolean }
---@return string
function SshNode:get(path, opts) end
