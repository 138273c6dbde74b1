--- kube-controller-manager as a static pod, with the flags kubeadm gives it:
--- its kubeconfig (for the API, and for authenticating and authorizing the
--- requests to its own port), the cluster-signing certificate and key (so it
--- signs CSRs, kubelet certificate rotation among them), the service-account
--- private key, the root CA handed to pods, leader election among the control
--- nodes, FlexVolume plugins under /var.
local cluster, pod, versions = require "labrun.kube.cluster", require "labrun.kube.pod", require "labrun.kube.versions"
local pki = cluster.pki
local controller_manager = {}

--- Where the kubelet finds the manifest.
controller_manager.PATH = pod.MANIFESTS .. "/kube-controller-manager.yaml"
--- Its kubeconfig, which labrun.kube.pki writes.
controller_manager.KUBECONFIG = "/etc/kubernetes/controller-manager.conf"

--- The flags (a table: flag = value) of kube-controller-manager; options as
--- labrun.kube.cluster.options. With opts.pod_cidr it allocates node CIDRs from it.
function controller_manager.flags(opts)
  local o = cluster.options(opts, "kube.controller_manager", 2)
  local conf = controller_manager.KUBECONFIG
  return cluster.apply({
    ["allocate-node-cidrs"] = o.pod_cidr and "true" or nil,
    ["authentication-kubeconfig"] = conf,
    ["authorization-kubeconfig"] = conf,
    ["bind-address"] = "127.0.0.1",
    ["client-ca-file"] = pki "ca.crt",
    ["cluster-cidr"] = o.pod_cidr,
    ["cluster-name"] = o.cluster,
    ["cluster-signing-cert-file"] = pki "ca.crt",
    ["cluster-signing-key-file"] = pki "ca.key",
    ["controllers"] = "*,bootstrapsigner,tokencleaner",
    ["flex-volume-plugin-dir"] = cluster.VOLUME_PLUGIN_DIR,
    ["kubeconfig"] = conf,
    ["leader-elect"] = "true",
    ["requestheader-client-ca-file"] = pki "front-proxy-ca.crt",
    ["root-ca-file"] = pki "ca.crt",
    ["service-account-private-key-file"] = pki "sa.key",
    ["service-cluster-ip-range"] = o.service_cidr,
    ["use-service-account-credentials"] = "true",
  }, o.flags)
end

--- The static pod manifest (YAML) of kube-controller-manager.
function controller_manager.manifest(opts)
  local o = cluster.options(opts, "kube.controller_manager", 2)
  return pod.manifest {
    name = "kube-controller-manager",
    image = o.image or versions.images["kube-controller-manager"],
    command = pod.command("kube-controller-manager", controller_manager.flags(opts)),
    probe = { host = "127.0.0.1", port = 10257, path = "/healthz" },
    requests = { cpu = "200m" },
    mounts = {
      { name = "ca-certs", host = "/etc/ssl/certs" },
      { name = "etc-pki", host = "/etc/pki" },
      { name = "flexvolume-dir", host = cluster.VOLUME_PLUGIN_DIR, writable = true },
      { name = "k8s-certs", host = cluster.PKI },
      { name = "kubeconfig", host = controller_manager.KUBECONFIG, type = "FileOrCreate" },
    },
  }
end

return controller_manager
