--- Kubernetes PKI as kubeadm lays it out, under the lab's own root CA (the
--- write-up's choice): root CA -> kubernetes CA ("ca") and etcd CA ("etcd/ca");
--- a self-signed front-proxy CA; RSA-4096 CAs, RSA-2048 leaves; per-node
--- apiserver and etcd server/peer certificates; clients named by CN and O;
--- the service-account key pair; kubeconfigs with everything embedded.
---
--- Nodes get the intermediates as their CAs (ca.crt, etcd/ca.crt), never a
--- bundle with the root: a bundle would let etcd's certificates, which chain
--- to the same root, log in to the API server. The root's key stays in the
--- lab's secrets on the user's machine.
local kube_pki = {}

local PKI = "/etc/kubernetes/pki/"

local function check(ok, message)
  if not ok then error("kube.pki: " .. message, 4) end
end

--- Options with defaults filled in, checked.
local function options(opts)
  check(type(opts) == "table", "takes a table of options")
  check(type(opts.nodes) == "table" and #opts.nodes > 0,
        "nodes must list the control nodes as { name = ..., ip = ... }")
  local seen = {}
  for i, node in ipairs(opts.nodes) do
    check(type(node.name) == "string" and type(node.ip) == "string",
          ("nodes[%d] needs a name and an ip"):format(i))
    check(not seen[node.name], ("node %s is listed twice"):format(node.name))
    seen[node.name] = true
  end
  local endpoint = opts.endpoint or {}
  local host = endpoint.name or endpoint.ip or opts.nodes[1].ip
  return {
    nodes = opts.nodes,
    endpoint = endpoint,
    port = endpoint.port or 6443,
    server = ("https://%s:%d"):format(host, endpoint.port or 6443),
    cluster = opts.cluster or "kubernetes",
    root_cn = opts.root_cn or "kubernetes-root-ca",
    service_ip = opts.service_ip or "10.96.0.1",
    dns_domain = opts.dns_domain or "cluster.local",
    kubelet_conf = opts.kubelet_conf ~= false,
    kubelet_serving = opts.kubelet_serving == true,
  }
end

--- A client certificate signed by `issuer`.
local function client(issuer, cn, o)
  return { cn = cn, o = o, ekus = { "client" }, issuer = issuer }
end

--- The table `labrun.pki.set` takes for `opts` (see kube_pki.make).
function kube_pki.spec(opts)
  local o = options(opts)
  local certs = {
    ["root-ca"] = { key = "rsa-4096", cn = o.root_cn, ca = true, path_len = 1 },
    ca = { key = "rsa-4096", cn = "kubernetes", ca = true, path_len = 0, issuer = "root-ca" },
    ["etcd/ca"] = { key = "rsa-4096", cn = "etcd-ca", ca = true, path_len = 0, issuer = "root-ca" },
    ["front-proxy-ca"] = { key = "rsa-4096", cn = "front-proxy-ca", ca = true },
    ["apiserver-kubelet-client"] = client("ca", "kube-apiserver-kubelet-client", { "kubeadm:cluster-admins" }),
    ["front-proxy-client"] = client("front-proxy-ca", "front-proxy-client"),
    ["apiserver-etcd-client"] = client("etcd/ca", "kube-apiserver-etcd-client"),
    ["admin.conf"] = client("ca", "kubernetes-admin", { "kubeadm:cluster-admins" }),
    ["super-admin.conf"] = client("ca", "kubernetes-super-admin", { "system:masters" }),
    ["controller-manager.conf"] = client("ca", "system:kube-controller-manager"),
    ["scheduler.conf"] = client("ca", "system:kube-scheduler"),
  }
  for _, node in ipairs(o.nodes) do
    local dns = { node.name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                  "kubernetes.default.svc." .. o.dns_domain }
    local ips = { o.service_ip, node.ip }
    if o.endpoint.name then dns[#dns + 1] = o.endpoint.name end
    if o.endpoint.ip then ips[#ips + 1] = o.endpoint.ip end
    certs[node.name .. "/apiserver"] = { cn = "kube-apiserver", ekus = { "server" }, dns = dns, ips = ips, issuer = "ca" }
    for _, kind in ipairs { "server", "peer" } do
      certs[node.name .. "/etcd/" .. kind] = {
        cn = node.name, ekus = { "server", "client" }, issuer = "etcd/ca",
        dns = { node.name, "localhost" }, ips = { node.ip, "127.0.0.1", "::1" },
      }
    end
    if o.kubelet_conf then
      certs[node.name .. "/kubelet.conf"] = client("ca", "system:node:" .. node.name, { "system:nodes" })
    end
    if o.kubelet_serving then
      -- what a kubelet's serving CSR asks for, issued up front
      certs[node.name .. "/kubelet-server"] = {
        cn = "system:node:" .. node.name, o = { "system:nodes" }, ekus = { "server" }, issuer = "ca",
        dns = { node.name }, ips = { node.ip },
      }
    end
  end
  return { keys = { sa = "rsa-2048" }, certs = certs }
end

--- A kubeconfig for the client certificate `name` of the set, trusting "ca".
local function kubeconfig(o, made, name, user, server)
  return labrun.pki.kubeconfig {
    cluster = o.cluster, server = server, ca = made.ca.cert, user = user,
    cert = made[name].cert, key = made[name].key,
  }
end

--- A certificate and its key as files `<base>.crt` (0644) and `<base>.key` (0600).
local function pair(files, base, entry)
  files[base .. ".crt"] = { contents = entry.cert, mode = "0644" }
  files[base .. ".key"] = { contents = entry.key, mode = "0600" }
end

--- Makes the PKI (or reuses the lab's stored one). opts:
---   nodes       the control nodes, { { name = "control-1", ip = "10.10.16.11" }, ... }
---   endpoint    the API endpoint, { name = "api.kubelius", ip = "10.10.16.10", port = 6443 }
---               (name and ip go into the apiserver SANs; default: the first node)
---   cluster     the cluster's name in kubeconfigs (default "kubernetes")
---   root_cn     the root CA's CN (default "kubernetes-root-ca")
---   service_ip  the first IP of the service range (default "10.96.0.1")
---   dns_domain  the cluster's DNS domain (default "cluster.local")
---   kubelet_conf     write each node's kubelet.conf (default true; kubeadm makes its own
---                    by TLS bootstrap on joining nodes, so its labs say false)
---   kubelet_serving  issue each kubelet's serving certificate (signed by "ca", written
---                    as /var/lib/kubelet/pki/kubelet.crt and .key) instead of letting the
---                    kubelet sign its own (default false)
--- Returns { pki = labrun.pki.set's entries, files = { [node name] = { [absolute path] =
--- { contents = ..., mode = "0600" } } }, server = the API endpoint's URL }. The files
--- are kubeadm's: /etc/kubernetes/pki/... (plus root-ca.crt), admin.conf, controller-manager.conf
--- and scheduler.conf (talking to the node's own API server), kubelet.conf, and
--- super-admin.conf on the first node only, as kubeadm init leaves it. The etcd server
--- and peer certificates name ::1 too, as kubeadm's do (kubeadm checks reused ones).
function kube_pki.make(opts)
  local o = options(opts)
  local made = labrun.pki.set(kube_pki.spec(opts))
  local shared = {
    [PKI .. "root-ca.crt"] = { contents = made["root-ca"].cert, mode = "0644" },
    [PKI .. "sa.key"] = { contents = made.sa.key, mode = "0600" },
    [PKI .. "sa.pub"] = { contents = made.sa.public, mode = "0644" },
  }
  for _, name in ipairs { "ca", "etcd/ca", "front-proxy-ca", "apiserver-kubelet-client",
                          "front-proxy-client", "apiserver-etcd-client" } do
    pair(shared, PKI .. name, made[name])
  end
  local admin = kubeconfig(o, made, "admin.conf", "kubernetes-admin", o.server)
  local super = kubeconfig(o, made, "super-admin.conf", "kubernetes-super-admin", o.server)
  local files = {}
  for i, node in ipairs(o.nodes) do
    local local_server = ("https://%s:%d"):format(node.ip, o.port)
    local mine = {
      ["/etc/kubernetes/admin.conf"] = admin,
      ["/etc/kubernetes/controller-manager.conf"] =
        kubeconfig(o, made, "controller-manager.conf", "system:kube-controller-manager", local_server),
      ["/etc/kubernetes/scheduler.conf"] =
        kubeconfig(o, made, "scheduler.conf", "system:kube-scheduler", local_server),
    }
    if o.kubelet_conf then
      mine["/etc/kubernetes/kubelet.conf"] =
        kubeconfig(o, made, node.name .. "/kubelet.conf", "system:node:" .. node.name, o.server)
    end
    if i == 1 then mine["/etc/kubernetes/super-admin.conf"] = super end
    for path, text in pairs(mine) do mine[path] = { contents = text, mode = "0600" } end
    for path, file in pairs(shared) do mine[path] = file end
    pair(mine, PKI .. "apiserver", made[node.name .. "/apiserver"])
    pair(mine, PKI .. "etcd/server", made[node.name .. "/etcd/server"])
    pair(mine, PKI .. "etcd/peer", made[node.name .. "/etcd/peer"])
    if o.kubelet_serving then
      pair(mine, "/var/lib/kubelet/pki/kubelet", made[node.name .. "/kubelet-server"])
    end
    files[node.name] = mine
  end
  return { pki = made, files = files, server = o.server }
end

--- Declares the files of kube_pki.make's result with lab:file: each node's under
--- "<node name>/<path>", and the user's kubeconfigs "admin.conf" and "super-admin.conf"
--- (0600). Theirs are named after the lab so kubeconfigs of several labs merge without
--- clashing: cluster and context LAB, user admin@LAB (super-admin.conf: context and user
--- super-admin@LAB). opts.proxy_url: the proxy they reach the API through
--- (labrun.ssh.proxy_url(), the SOCKS5 proxy of `labrun proxy LAB`). With
--- opts.vpn_server (the endpoint's URL by its address, which the API servers'
--- certificates name), also "admin-vpn.conf": admin.conf without the proxy, for
--- a machine inside the lab's WireGuard VPN (`labrun kubeconfig LAB --vpn`).
function kube_pki.declare_files(lab, made, opts)
  opts = opts or {}
  local nodes = {}
  for name in pairs(made.files) do nodes[#nodes + 1] = name end
  table.sort(nodes)
  for _, name in ipairs(nodes) do
    local paths = {}
    for path in pairs(made.files[name]) do paths[#paths + 1] = path end
    table.sort(paths)
    for _, path in ipairs(paths) do
      local file = made.files[name][path]
      lab:file(name .. path, file.contents, { mode = file.mode })
    end
  end
  local kubeconfigs = {
    { file = "admin.conf", who = "admin", server = made.server, proxy_url = opts.proxy_url },
    { file = "super-admin.conf", who = "super-admin", server = made.server, proxy_url = opts.proxy_url },
  }
  if opts.vpn_server then
    kubeconfigs[#kubeconfigs + 1] = { file = "admin-vpn.conf", who = "admin", server = opts.vpn_server }
  end
  for _, k in ipairs(kubeconfigs) do
    local user = k.who .. "@" .. lab.name
    lab:file(k.file, labrun.pki.kubeconfig {
      cluster = lab.name, server = k.server, proxy_url = k.proxy_url, ca = made.pki.ca.cert,
      user = user, context = k.who == "admin" and lab.name or user,
      cert = made.pki[k.who .. ".conf"].cert, key = made.pki[k.who .. ".conf"].key,
    }, { mode = "0600" })
  end
end

return kube_pki
