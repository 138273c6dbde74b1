--- The kubelet's configuration file (KubeletConfiguration v1beta1): the part
--- every lab node shares (systemd cgroups, the container runtime, FlexVolume
--- plugins under /var), and the whole file the hard way writes (static pods,
--- client CA, webhook authentication and authorization, serving certificate,
--- client certificate rotation).
local cluster, yaml = require "labrun.kube.cluster", require "labrun.kube.yaml"
local kubelet = {}

--- Where the kubelet reads its configuration (the kubeadm drop-in's --config).
kubelet.CONFIG = cluster.KUBELET_DIR .. "/config.yaml"
--- Its kubeconfig (the drop-in's --kubeconfig).
kubelet.KUBECONFIG = "/etc/kubernetes/kubelet.conf"
--- Its serving certificate and key, when the lab issues them (labrun.kube.pki's kubelet_serving).
kubelet.SERVING_CERT = cluster.KUBELET_DIR .. "/pki/kubelet.crt"
kubelet.SERVING_KEY = cluster.KUBELET_DIR .. "/pki/kubelet.key"
--- The container runtimes' sockets.
kubelet.CONTAINERD = "unix:///run/containerd/containerd.sock"
kubelet.CRIO = "unix:///var/run/crio/crio.sock"

--- The fields every lab node's kubelet gets, kubeadm's or the hard way's. opts.runtime:
--- the CRI socket (default kubelet.CONTAINERD).
function kubelet.base(opts)
  opts = opts or {}
  return {
    apiVersion = "kubelet.config.k8s.io/v1beta1",
    kind = "KubeletConfiguration",
    cgroupDriver = "systemd",
    containerRuntimeEndpoint = opts.runtime or kubelet.CONTAINERD,
    volumePluginDir = cluster.VOLUME_PLUGIN_DIR,
  }
end

--- The hard way's whole configuration (a table) for the node `opts.node`; options as
--- labrun.kube.cluster.options, plus runtime (the CRI socket) and cluster_dns (the DNS
--- service's IP, "10.96.0.10"). Change the table before kubelet.config writes it.
function kubelet.configuration(opts)
  local o = cluster.options(opts, "kube.kubelet", 2)
  local config = kubelet.base(opts)
  for k, v in pairs {
    authentication = {
      anonymous = { enabled = false },
      webhook = { cacheTTL = "0s", enabled = true },
      x509 = { clientCAFile = cluster.pki "ca.crt" },
    },
    authorization = { mode = "Webhook", webhook = { cacheAuthorizedTTL = "0s", cacheUnauthorizedTTL = "0s" } },
    clusterDNS = { opts.cluster_dns or "10.96.0.10" },
    clusterDomain = o.dns_domain,
    rotateCertificates = true,
    staticPodPath = "/etc/kubernetes/manifests",
    tlsCertFile = kubelet.SERVING_CERT,
    tlsPrivateKeyFile = kubelet.SERVING_KEY,
  } do config[k] = v end
  return config
end

--- YAML for kubelet.CONFIG: of `config` if it is a configuration (a table with a
--- kind), else of kubelet.configuration(config).
function kubelet.config(config)
  if type(config) ~= "table" or config.kind ~= "KubeletConfiguration" then
    cluster.options(config, "kube.kubelet", 2)
    config = kubelet.configuration(config)
  end
  return yaml.encode(config)
end

return kubelet
