--- etcd as a static pod in kube-system, with the flags kubeadm (and the
--- hard way) give it: client and peer TLS with client certificate
--- authentication, the initial cluster of all members, client URLs on the
--- node's IP and 127.0.0.1, metrics on 127.0.0.1 over plain HTTP.
local pod, versions = require "labrun.kube.pod", require "labrun.kube.versions"
local etcd = {}

--- The pinned image.
etcd.IMAGE = versions.images.etcd
--- Where the kubelet looks for the manifest.
etcd.PATH = "/etc/kubernetes/manifests/etcd.yaml"

local function check(ok, message)
  if not ok then error("kube.etcd: " .. message, 4) end
end

--- A member with its ports filled in.
local function member(m)
  return {
    name = m.name, ip = m.ip,
    client_port = m.client_port or 2379,
    peer_port = m.peer_port or 2380,
    metrics_port = m.metrics_port or 2381,
  }
end

local command

local function peer_url(m) return ("https://%s:%d"):format(m.ip, m.peer_port) end

--- The command of member `opts.node` (a name) of `opts.members`, as a list: "etcd",
--- then "--flag=value" sorted by flag. opts:
---   members   every member, { { name = "control-1", ip = "10.10.16.11" }, ... }; each may set
---             client_port (2379), peer_port (2380) and metrics_port (2381)
---   node      the name of the member this command is for
---   pki_dir   where ca.crt, server.crt/key and peer.crt/key are ("/etc/kubernetes/pki/etcd")
---   data_dir  "/var/lib/etcd"
---   state     the initial cluster state, "new" (or "existing" to join)
---   token     the initial cluster token ("etcd-cluster")
function etcd.command(opts)
  local args, me = command(opts)
  return args, me
end

--- etcd.command, for the functions of this module: a call from outside is
--- always two levels up, which errors name.
command = function(opts)
  check(type(opts) == "table" and type(opts.members) == "table" and #opts.members > 0,
        "members must list the etcd members as { name = ..., ip = ... }")
  local members, me = {}, nil
  for i, m in ipairs(opts.members) do
    check(type(m) == "table" and type(m.name) == "string" and type(m.ip) == "string",
          ("members[%d] needs a name and an ip"):format(i))
    members[i] = member(m)
    if m.name == opts.node then me = members[i] end
  end
  check(me, ("node %s is not one of the members"):format(tostring(opts.node)))
  local pki = opts.pki_dir or "/etc/kubernetes/pki/etcd"
  local initial = {}
  for i, m in ipairs(members) do initial[i] = m.name .. "=" .. peer_url(m) end
  local client_url = ("https://%s:%d"):format(me.ip, me.client_port)
  local flags = {
    ["advertise-client-urls"] = client_url,
    ["cert-file"] = pki .. "/server.crt",
    ["client-cert-auth"] = "true",
    ["data-dir"] = opts.data_dir or "/var/lib/etcd",
    ["initial-advertise-peer-urls"] = peer_url(me),
    ["initial-cluster"] = table.concat(initial, ","),
    ["initial-cluster-state"] = opts.state or "new",
    ["initial-cluster-token"] = opts.token or "etcd-cluster",
    ["key-file"] = pki .. "/server.key",
    ["listen-client-urls"] = ("https://127.0.0.1:%d,%s"):format(me.client_port, client_url),
    ["listen-metrics-urls"] = ("http://127.0.0.1:%d"):format(me.metrics_port),
    ["listen-peer-urls"] = peer_url(me),
    ["name"] = me.name,
    ["peer-cert-file"] = pki .. "/peer.crt",
    ["peer-client-cert-auth"] = "true",
    ["peer-key-file"] = pki .. "/peer.key",
    ["peer-trusted-ca-file"] = pki .. "/ca.crt",
    ["snapshot-count"] = "10000",
    ["trusted-ca-file"] = pki .. "/ca.crt",
  }
  local args = pod.command("etcd", flags)
  return args, me
end

--- The static pod manifest (YAML text) of member `opts.node`: etcd.command(opts) in
--- a kube-system pod on the host network, with the PKI and data folders mounted from
--- the host. opts as etcd.command, plus image (the pinned one of labrun.kube.versions).
function etcd.manifest(opts)
  local args, me = command(opts)
  local pki = opts.pki_dir or "/etc/kubernetes/pki/etcd"
  local data = opts.data_dir or "/var/lib/etcd"
  return pod.manifest {
    name = "etcd",
    image = opts.image or etcd.IMAGE,
    command = args,
    annotations = {
      ["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = ("https://%s:%d"):format(me.ip, me.client_port),
    },
    probe = { host = "127.0.0.1", port = me.metrics_port, path = "/livez", ready_path = "/readyz",
              startup_path = "/readyz", scheme = "HTTP" },
    requests = { cpu = "100m", memory = "100Mi" },
    mounts = {
      { name = "etcd-data", host = data, writable = true },
      { name = "etcd-certs", host = pki, writable = true },
    },
  }
end

return etcd
