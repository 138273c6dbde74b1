--- Kubernetes the hard way: every file a control node needs, made by the lab
--- script, none by kubeadm. The PKI (labrun.kube.pki, with the kubelets'
--- serving certificates), the static pods of etcd, kube-apiserver,
--- kube-controller-manager and kube-scheduler, and the kubelet's
--- configuration; the kubelet (labrun.kube.node) runs the pods.
---
--- Which certificate signs what, and who uses it (files under /etc/kubernetes/pki):
---
---   root-ca (key stays on the user's machine)
---   |-- ca ............ apiserver.crt (kube-apiserver serves :6443)
---   |                   apiserver-kubelet-client (kube-apiserver -> kubelets)
---   |                   admin.conf, super-admin.conf (you), controller-manager.conf,
---   |                   scheduler.conf, kubelet.conf (each component -> kube-apiserver)
---   |                   kubelet.crt (each kubelet serves :10250)
---   |                   + signs kubelets' renewed client certificates (controller-manager)
---   `-- etcd/ca ....... etcd/server.crt (etcd serves :2379), etcd/peer.crt (etcd <-> etcd)
---                       apiserver-etcd-client (kube-apiserver -> etcd)
---   front-proxy-ca .... front-proxy-client (kube-apiserver -> aggregated APIs)
---   sa.key / sa.pub ... service account tokens: controller-manager and apiserver sign,
---                       apiserver checks
local kube_pki, etcd = require "labrun.kube.pki", require "labrun.kube.etcd"
local apiserver, controller_manager = require "labrun.kube.apiserver", require "labrun.kube.controller_manager"
local scheduler, kubelet = require "labrun.kube.scheduler", require "labrun.kube.kubelet"
local hard_way = {}

--- Makes the PKI (or reuses the lab's) and every node's files. opts: those of
--- labrun.kube.cluster.options (nodes, endpoint, service_cidr, ...) and root_cn.
--- Returns the result of labrun.kube.pki.make, whose `files[node]` now also hold
--- the manifests and the kubelet configuration: { [path] = { contents, mode } }.
function hard_way.make(opts)
  local kube = kube_pki.make {
    nodes = opts.nodes, endpoint = opts.endpoint, cluster = opts.cluster, root_cn = opts.root_cn,
    dns_domain = opts.dns_domain, kubelet_serving = true,
  }
  for _, node in ipairs(opts.nodes) do
    local mine = {}
    for k, v in pairs(opts) do mine[k] = v end
    mine.node, mine.kubelet_ca = node.name, true
    local files = kube.files[node.name]
    files[etcd.PATH] = { contents = etcd.manifest { members = opts.nodes, node = node.name }, mode = "0600" }
    files[apiserver.PATH] = { contents = apiserver.manifest(mine), mode = "0600" }
    files[controller_manager.PATH] = { contents = controller_manager.manifest(mine), mode = "0600" }
    files[scheduler.PATH] = { contents = scheduler.manifest(mine), mode = "0600" }
    files[kubelet.CONFIG] = { contents = kubelet.config(mine), mode = "0644" }
  end
  return kube
end

return hard_way
