-- Kubernetes with kubeadm, the write-up's lab without its manual steps: three
-- Fedora CoreOS control nodes get the lab's CAs and certificates by Ignition
-- (so no CA file is copied between nodes), kubeadm init runs on the first
-- with a rendered config, the two others join as control nodes in parallel,
-- and the API answers at api.kubelius:6443 (HAProxy on the gateway; --var lb=nlb
-- puts the write-up's network load balancer there instead).
-- --var install=rpm-ostree layers kubelet/kubeadm/cri-o as the write-up did.
-- From your machine: `labrun proxy kube-kubeadm -- kubectl get nodes` (an SSH
-- tunnel), or through the gateway's WireGuard VPN (as labs/vpn.lua: --var
-- clients, vpn_port, vpn_from): `labrun wg kube-kubeadm laptop` is the tunnel's
-- config, `KUBECONFIG=$(labrun kubeconfig kube-kubeadm --vpn) kubectl get nodes`.
local kube_lab, kubeadm = require "labrun.kube.lab", require "labrun.kube.kubeadm"
local kube_pki = require "labrun.kube.pki"

local lab = labrun.lab { name = labrun.var("name", "kube-kubeadm"), region = labrun.var("region", "us-east-1") }
local settings = kube_lab.settings()   -- --var nodes, ips, type, spot, lb, api_name, ssh_from...
local nodes = settings.nodes
local install = labrun.var("install", "binaries")   -- or "rpm-ostree"
settings.install = install
local user_key = labrun.ssh.user_key()
local key_pair = lab:key_pair("lab", { public_key = user_key.public })

settings.user_key, settings.key_pair = user_key, key_pair.key_name
local network = kube_lab.network(lab, settings)

-- kubeadm's PKI from the lab: every node has the CAs and its own certificates;
-- kubelet.conf is kubeadm's to make (init) or to bootstrap (join).
local kube = kube_pki.make { nodes = nodes, endpoint = network.api, root_cn = "kubelius-root-ca", kubelet_conf = false }
local token = kubeadm.token()
local init_config = kubeadm.init_config { nodes = nodes, endpoint = network.api, token = token, install = install }
-- control-01 gets its init config by Ignition, like every other file
kube.files[nodes[1].name][kubeadm.INIT_CONFIG] = { contents = init_config, mode = "0600" }
kube_pki.declare_files(lab, kube, { proxy_url = labrun.ssh.proxy_url(), vpn_server = network.api.url_by_ip })

settings.files = function(n) return kube.files[n.name] end
kube_lab.control_nodes(lab, network, settings)

local first = nodes[1]
-- sudo's PATH lacks /usr/local/bin, where kubeadm looks for crictl too
local sudo = "sudo env PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin "
local kubectl = sudo .. "kubectl --kubeconfig=/etc/kubernetes/admin.conf "

-- Each node: the container runtime up and kubeadm installed. With rpm-ostree
-- the node reboots on the way, dropping SSH: each try is retried, waiting on
-- the gateway in between, for at most 15 minutes.
labrun.after_up("runtime-ready", function(live)
  local test = install == "rpm-ostree" and "systemctl is-active --quiet crio && command -v kubeadm"
    or "systemctl is-active --quiet containerd && test -x /usr/local/bin/kubeadm && test -x /usr/local/bin/crictl"
  local waits = {}
  for _, n in ipairs(nodes) do
    waits[#waits + 1] = function()
      for _ = 1, 15 do
        local ok, result = pcall(live.nodes[n.name].run, live.nodes[n.name],
          ("timeout 50 sh -c 'until %s; do sleep 5; done'"):format(test), { timeout = 60, check = false })
        if ok and result.ok then return end
        live.nodes.gateway:run("sleep 10")
      end
      error(n.name .. ": the container runtime and kubeadm are not ready after 15 minutes")
    end
  end
  labrun.parallel(waits)
end, { timeout = 960 })

-- Whether the file `path` is on node `name`.
local function has(live, name, path)
  return live.nodes[name]:run("sudo test -f " .. path, { check = false }).ok
end

-- kubeadm init on the first node, unless a node runs the cluster already: when
-- AWS reclaimed the first (a spot node) and `up` made it again, it joins instead.
labrun.after_up("kubeadm-init", function(live)
  for _, n in ipairs(nodes) do
    if has(live, n.name, "/etc/kubernetes/manifests/kube-apiserver.yaml") then return end
  end
  live.nodes[first.name]:run(sudo .. "kubeadm init --config " .. kubeadm.INIT_CONFIG, { timeout = 600 })
end, { after = { "runtime-ready" }, timeout = 660 })

-- Every node not in the cluster joins as a control node, all at the same time;
-- the token is made again if it expired. A node the cluster still knows (one
-- AWS reclaimed, made again by `up`) is forgotten first, its Node and its etcd
-- member, or its join would fail.
labrun.after_up("kubeadm-join", function(live)
  local inside, joining = nil, {}
  for _, n in ipairs(nodes) do
    if has(live, n.name, "/etc/kubernetes/kubelet.conf") then
      inside = inside or n
    else
      joining[#joining + 1] = n
    end
  end
  if #joining == 0 then return end
  if not inside then error("no node is in the cluster (none has /etc/kubernetes/kubelet.conf) to join") end
  local member = live.nodes[inside.name]
  member:run(sudo .. "kubeadm token list | grep -q '^" .. token:sub(1, 6) .. "\\.' || "
    .. sudo .. "kubeadm token create " .. token)
  local etcdctl = kubectl .. "-n kube-system exec etcd-" .. inside.name .. " -- etcdctl"
    .. " --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt"
    .. " --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key"
  for _, n in ipairs(joining) do
    if member:run(kubectl .. "get node " .. n.name, { check = false }).ok then
      member:run(("id=$(%s member list | awk -F', ' '$3 == \"%s\" { print $1 }'); [ -z \"$id\" ] || %s member remove \"$id\"")
        :format(etcdctl, n.name, etcdctl))
      member:run(kubectl .. "delete node " .. n.name)
    end
  end
  local ca_hash = kube.pki.ca.public_fingerprint
  local joins = {}
  for _, me in ipairs(joining) do
    joins[#joins + 1] = function()
      local n = live.nodes[me.name]
      n:put(kubeadm.JOIN_CONFIG, kubeadm.join_config {
        nodes = nodes, node = me.name, endpoint = network.api, token = token, ca_cert_hash = ca_hash, install = install,
      }, { mode = "0600", sudo = true })
      n:run(sudo .. "kubeadm join --config " .. kubeadm.JOIN_CONFIG, { timeout = 600 })
    end
  end
  labrun.parallel(joins)
end, { after = { "kubeadm-init" }, timeout = 660 })

-- The API through the endpoint, and every node registered.
labrun.after_up("api-ready", function(live)
  live.nodes[first.name]:run(kubectl .. "get --raw /readyz")
  live.nodes[first.name]:run(kubectl .. "get nodes")
end, { after = { "kubeadm-join" }, timeout = 120 })

-- Proof that it works, after up and by `labrun check`: etcd, the API servers, the
-- endpoint, the leader leases, the gateway's NAT (labrun.kube.checks).
require("labrun.kube.checks").declare { nodes = nodes, network = network }

lab:output("api", ("https://%s:%d (%s, %s)"):format(network.api.name, network.api.port, network.api.via, network.api.ip))
lab:output("gateway_ip", network.gateway.eip.public_ip)
-- the API from this machine: kubectl through an SSH tunnel to the gateway
lab:output("kubectl", ("labrun proxy %s -- kubectl get nodes"):format(lab.name))
-- or inside the lab's WireGuard VPN: the tunnel's config, and kubectl without the SSH tunnel
lab:output("vpn", ("labrun wg %s %s > %s.conf && sudo wg-quick up ./%s.conf"):format(
  lab.name, network.vpn.clients[1].name, lab.name, lab.name))
lab:output("kubectl_vpn", ("KUBECONFIG=$(labrun kubeconfig %s --vpn) kubectl get nodes"):format(lab.name))
