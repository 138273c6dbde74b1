--- kube-apiserver as a static pod, with the flags kubeadm gives it: etcd (the
--- control nodes' members over mutual TLS), serving and client CAs, the
--- kubelet client certificate (and the CA the kubelets' serving certificates
--- chain to), the front proxy, service accounts, Node and RBAC authorization,
--- advertised on the node's own IP. Every file it names is one of those
--- labrun.kube.pki writes on each node.
local cluster, pod, versions = require "labrun.kube.cluster", require "labrun.kube.pod", require "labrun.kube.versions"
local pki = cluster.pki
local apiserver = {}

--- Where the kubelet finds the manifest.
apiserver.PATH = pod.MANIFESTS .. "/kube-apiserver.yaml"

--- The flags (a table: flag = value) of kube-apiserver on node `opts.node`; options as
--- labrun.kube.cluster.options, plus opts.kubelet_ca (verify kubelets' serving
--- certificates against ca.crt: true when the lab issues them, as the hard way does).
function apiserver.flags(opts)
  local o = cluster.options(opts, "kube.apiserver", 2)
  local etcd_servers = {}
  for i, m in ipairs(o.nodes) do etcd_servers[i] = ("https://%s:%d"):format(m.ip, m.client_port or 2379) end
  return cluster.apply({
    ["advertise-address"] = o.node.ip,
    ["allow-privileged"] = "true",
    ["authorization-mode"] = "Node,RBAC",
    ["client-ca-file"] = pki "ca.crt",
    ["enable-admission-plugins"] = "NodeRestriction",
    ["etcd-cafile"] = pki "etcd/ca.crt",
    ["etcd-certfile"] = pki "apiserver-etcd-client.crt",
    ["etcd-keyfile"] = pki "apiserver-etcd-client.key",
    ["etcd-servers"] = etcd_servers,
    ["kubelet-certificate-authority"] = opts.kubelet_ca and pki "ca.crt" or nil,
    ["kubelet-client-certificate"] = pki "apiserver-kubelet-client.crt",
    ["kubelet-client-key"] = pki "apiserver-kubelet-client.key",
    ["kubelet-preferred-address-types"] = "InternalIP,ExternalIP,Hostname",
    ["proxy-client-cert-file"] = pki "front-proxy-client.crt",
    ["proxy-client-key-file"] = pki "front-proxy-client.key",
    ["requestheader-allowed-names"] = "front-proxy-client",
    ["requestheader-client-ca-file"] = pki "front-proxy-ca.crt",
    ["requestheader-extra-headers-prefix"] = "X-Remote-Extra-",
    ["requestheader-group-headers"] = "X-Remote-Group",
    ["requestheader-username-headers"] = "X-Remote-User",
    ["secure-port"] = tostring(o.port),
    ["service-account-issuer"] = "https://kubernetes.default.svc." .. o.dns_domain,
    ["service-account-key-file"] = pki "sa.pub",
    ["service-account-signing-key-file"] = pki "sa.key",
    ["service-cluster-ip-range"] = o.service_cidr,
    ["tls-cert-file"] = pki "apiserver.crt",
    ["tls-private-key-file"] = pki "apiserver.key",
  }, o.flags)
end

--- The static pod manifest (YAML) of kube-apiserver on node `opts.node`.
function apiserver.manifest(opts)
  local o = cluster.options(opts, "kube.apiserver", 2)
  return pod.manifest {
    name = "kube-apiserver",
    image = o.image or versions.images["kube-apiserver"],
    command = pod.command("kube-apiserver", apiserver.flags(opts)),
    annotations = {
      ["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = ("%s:%d"):format(o.node.ip, o.port),
    },
    probe = { host = o.node.ip, port = o.port, path = "/livez", ready_path = "/readyz" },
    requests = { cpu = "250m" },
    mounts = {
      { name = "ca-certs", host = "/etc/ssl/certs" },
      { name = "etc-pki", host = "/etc/pki" },
      { name = "k8s-certs", host = cluster.PKI },
    },
  }
end

return apiserver
