--- kubeadm's configuration (kubeadm.k8s.io/v1beta4) for a cluster whose PKI
--- the lab already wrote on every node (labrun.kube.pki): `kubeadm init` on
--- the first control node reuses those certificates, and the others join as
--- control nodes with nothing copied between nodes. Also the bootstrap token
--- the joins use.
local cluster, kubelet, versions = require "labrun.kube.cluster", require "labrun.kube.kubelet", require "labrun.kube.versions"
local node, yaml = require "labrun.kube.node", require "labrun.kube.yaml"
local kubeadm = {}

kubeadm.API_VERSION = "kubeadm.k8s.io/v1beta4"
--- Where the after-up steps put the configurations on the nodes.
kubeadm.INIT_CONFIG = "/etc/kubernetes/kubeadm-init.yaml"
kubeadm.JOIN_CONFIG = "/etc/kubernetes/kubeadm-join.yaml"

--- Pre-flight errors the labs must ignore, with why:
kubeadm.IGNORE_PREFLIGHT = {
  init = {},
  join = {
    -- the lab's CA is on every node from its first boot (Ignition), so a joining
    -- node needs no CA copied to it; kubeadm expects to find none
    "FileAvailable--etc-kubernetes-pki-ca.crt",
  },
}

local function tag(image) return image:match(":([^:]+)$") end
local function repository(image) return image:match("^(.*)/[^/]+$") end

--- The bootstrap token, "[a-z0-9]{6}.[a-z0-9]{16}": random, made once and
--- kept in the lab's secrets (labrun.secret), the same on every load.
function kubeadm.token()
  return labrun.secret("kubeadm-token-id", { length = 6 }) .. "." .. labrun.secret("kubeadm-token-secret", { length = 16 })
end

--- nodeRegistration of a node.
local function registration(o, install, ignore)
  return {
    name = o.node.name,
    criSocket = node.runtime(install),
    ignorePreflightErrors = #ignore > 0 and ignore or nil,
    imagePullPolicy = "IfNotPresent",
    kubeletExtraArgs = { { name = "node-ip", value = o.node.ip } },
    -- the labs have control nodes only: let them run pods
    taints = yaml.EMPTY_LIST,
  }
end

local function endpoint(o)
  return ("%s:%d"):format(o.endpoint.name or o.endpoint.ip, o.port)
end

--- Options checked; errors name the caller of the public function calling this.
local function options(opts)
  local o = cluster.options(opts, "kube.kubeadm", 4)
  if type(opts.token) ~= "string" or not opts.token:match("^[a-z0-9]+%.[a-z0-9]+$") or #opts.token ~= 23 then
    error("kube.kubeadm: token must look like abcdef.0123456789abcdef (kubeadm.token())", 4)
  end
  return o
end

local init_documents, join_document

--- The configuration of `kubeadm init --config` on `opts.node` (default: the first node),
--- YAML: InitConfiguration, ClusterConfiguration and KubeletConfiguration. opts: those of
--- labrun.kube.cluster.options, plus token (kubeadm.token()), install ("binaries" or
--- "rpm-ostree": the container runtime) and ttl (the token's, "24h").
function kubeadm.init_config(opts)
  local docs = init_documents(opts)
  return yaml.documents(docs)
end

--- The JoinConfiguration (YAML, for `kubeadm join --config`) of control node `opts.node`
--- joining as a control node. opts as kubeadm.init_config, plus ca_cert_hash:
--- "sha256:<hex>" of the SubjectPublicKeyInfo of the cluster's CA (ca.crt), which
--- discovery pins.
function kubeadm.join_config(opts)
  local doc = join_document(opts)
  return yaml.encode(doc)
end

init_documents = function(opts)
  local o = options(opts)
  local sans = {}
  if o.endpoint.name then sans[#sans + 1] = o.endpoint.name end
  if o.endpoint.ip then sans[#sans + 1] = o.endpoint.ip end
  local init = {
    apiVersion = kubeadm.API_VERSION,
    kind = "InitConfiguration",
    bootstrapTokens = { {
      token = opts.token,
      description = "labrun: control nodes join with it",
      ttl = opts.ttl or "24h",
      usages = { "signing", "authentication" },
      groups = { "system:bootstrappers:kubeadm:default-node-token" },
    } },
    localAPIEndpoint = { advertiseAddress = o.node.ip, bindPort = o.port },
    nodeRegistration = registration(o, opts.install, kubeadm.IGNORE_PREFLIGHT.init),
  }
  local config = {
    apiVersion = kubeadm.API_VERSION,
    kind = "ClusterConfiguration",
    clusterName = o.cluster,
    kubernetesVersion = "v" .. versions.KUBERNETES,
    controlPlaneEndpoint = endpoint(o),
    -- the lab's CAs and certificates are there already: kubeadm uses them
    certificatesDir = cluster.PKI,
    imageRepository = "registry.k8s.io",
    etcd = { ["local"] = { dataDir = "/var/lib/etcd", imageTag = tag(versions.images.etcd) } },
    dns = { imageRepository = repository(versions.images.coredns), imageTag = tag(versions.images.coredns) },
    networking = { serviceSubnet = o.service_cidr, podSubnet = o.pod_cidr, dnsDomain = o.dns_domain },
    apiServer = { certSANs = #sans > 0 and sans or nil },
    controllerManager = {
      extraArgs = { { name = "flex-volume-plugin-dir", value = cluster.VOLUME_PLUGIN_DIR } },
    },
    encryptionAlgorithm = "RSA-2048",
  }
  return { init, config, kubelet.base { runtime = node.runtime(opts.install) } }
end

join_document = function(opts)
  local o = options(opts)
  if type(opts.ca_cert_hash) ~= "string" or not opts.ca_cert_hash:match("^sha256:%x+$") or #opts.ca_cert_hash ~= 71 then
    error("kube.kubeadm: ca_cert_hash must be sha256:<64 hex digits> of the CA's public key", 3)
  end
  return {
    apiVersion = kubeadm.API_VERSION,
    kind = "JoinConfiguration",
    caCertPath = cluster.pki "ca.crt",
    discovery = {
      bootstrapToken = {
        apiServerEndpoint = endpoint(o),
        token = opts.token,
        caCertHashes = { opts.ca_cert_hash },
      },
    },
    controlPlane = { localAPIEndpoint = { advertiseAddress = o.node.ip, bindPort = o.port } },
    nodeRegistration = registration(o, opts.install, kubeadm.IGNORE_PREFLIGHT.join),
  }
end

return kubeadm
