-- Kubernetes the hard way ("blockhead" in the write-up): three Fedora CoreOS
-- control nodes whose etcd, kube-apiserver, kube-controller-manager and
-- kube-scheduler run as static pods, every file of them made here, none by
-- kubeadm: the PKI (root CA -> kubernetes and etcd CAs -> each certificate),
-- the manifests, the kubeconfigs, the kubelet's configuration. The API is
-- reached at api.kubelius:6443, HAProxy on the gateway (which is also the
-- NAT instance; --var lb=nlb: a network load balancer). `labrun render
-- labs/kube.lua DIR` writes every file.
-- From your machine: `labrun proxy kube -- kubectl get nodes` (an SSH
-- tunnel), or through the gateway's WireGuard VPN (as labs/vpn.lua: --var
-- clients, vpn_port, vpn_from): `labrun wg kube laptop` is the tunnel's
-- config, `KUBECONFIG=$(labrun kubeconfig kube --vpn) kubectl get nodes`.
local kube_lab, hard_way = require "labrun.kube.lab", require "labrun.kube.hard_way"
local kube_pki = require "labrun.kube.pki"

local lab = labrun.lab { name = labrun.var("name", "kube"), region = labrun.var("region", "us-east-1") }
local settings = kube_lab.settings()   -- --var nodes, ips, type, spot, lb, api_name, ssh_from...
local nodes = settings.nodes
local user_key = labrun.ssh.user_key()
local key_pair = lab:key_pair("lab", { public_key = user_key.public })

settings.user_key, settings.key_pair = user_key, key_pair.key_name
local network = kube_lab.network(lab, settings)

-- Every node's files: the PKI, the static pods, the kubelet's configuration.
local kube = hard_way.make { nodes = nodes, endpoint = network.api, root_cn = "kubelius-root-ca" }
kube_pki.declare_files(lab, kube, { proxy_url = labrun.ssh.proxy_url(), vpn_server = network.api.url_by_ip })

settings.files = function(n) return kube.files[n.name] end
kube_lab.control_nodes(lab, network, settings)

local first = nodes[1].name
local kubectl = "sudo /usr/local/bin/kubectl --kubeconfig=/etc/kubernetes/admin.conf "

-- Each API server answers /readyz on its own address, its certificate checked.
labrun.after_up("api-servers-ready", function(live)
  local waits = {}
  for _, n in ipairs(nodes) do
    waits[#waits + 1] = function()
      live.nodes[n.name]:run(("timeout 600 sh -c 'until curl -fsS --cacert /etc/kubernetes/pki/ca.crt "
        .. "https://%s:6443/readyz >/dev/null; do sleep 5; done'"):format(n.ip), { timeout = 630 })
    end
  end
  labrun.parallel(waits)
end, { timeout = 660 })

-- etcd keeps the cluster on its members' disks. A node AWS reclaimed (a spot
-- node) that `up` made again comes back empty under its old member's name,
-- which etcd refuses: that member is replaced (removed and added again through
-- a member that kept its data), and the node's etcd restarted to join the
-- running cluster. MARK tells the nodes whose etcd belongs to the cluster.
local MARK = "/etc/kubernetes/labrun-etcd-member"
labrun.after_up("etcd-members", function(live)
  local kept, fresh = nil, {}
  for _, n in ipairs(nodes) do
    if live.nodes[n.name]:run("sudo test -f " .. MARK, { check = false }).ok then
      kept = kept or n
    else
      fresh[#fresh + 1] = n
    end
  end
  if kept then
    local etcdctl = kubectl .. "-n kube-system exec etcd-" .. kept.name .. " -- etcdctl"
      .. " --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt"
      .. " --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key"
    for _, n in ipairs(fresh) do
      local node = live.nodes[n.name]
      -- the kubelet stops a static pod whose manifest goes away
      node:run("sudo mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml && "
        .. "timeout 120 sh -c 'while sudo /usr/local/bin/crictl ps -q --name etcd | grep -q .; do sleep 2; done' && "
        .. "sudo rm -rf /var/lib/etcd/member", { timeout = 150 })
      live.nodes[kept.name]:run(("id=$(%s member list | awk -F', ' '$3 == \"%s\" { print $1 }'); "
        .. "[ -z \"$id\" ] || %s member remove \"$id\"; %s member add %s --peer-urls=https://%s:2380")
        :format(etcdctl, n.name, etcdctl, etcdctl, n.name, n.ip))
      node:run("sudo sed -i 's/--initial-cluster-state=new/--initial-cluster-state=existing/' /etc/kubernetes/etcd.yaml && "
        .. "sudo mv /etc/kubernetes/etcd.yaml /etc/kubernetes/manifests/etcd.yaml")
    end
  end
  for _, n in ipairs(fresh) do live.nodes[n.name]:run("sudo touch " .. MARK) end
end, { after = { "api-servers-ready" }, timeout = 600 })

-- The same through the endpoint the kubeconfigs name (HAProxy on the gateway, or the NLB).
labrun.after_up("api-endpoint-ready", function(live)
  live.nodes[first]:run(kubectl .. "get --raw /readyz")
end, { after = { "etcd-members" }, timeout = 120 })

-- What kubeadm would create and the hard way must: kubelets renew their client
-- certificates by CSRs the controller-manager approves once nodes may ask.
labrun.after_up("kubelet-certificate-rotation", function(live)
  live.nodes[first]:run(kubectl .. "apply -f -", { stdin = [[
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: labrun:node-autoapprove-certificate-rotation
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:certificates.k8s.io:certificatesigningrequests:selfnodeclient
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
]] })
end, { after = { "api-endpoint-ready" }, timeout = 120 })

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
