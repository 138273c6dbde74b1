--- What every control plane piece is told about the cluster: its control
--- nodes, the node at hand, the API endpoint, the service range; with the
--- defaults kubeadm uses. The functions of the component modules take the same
--- options table.
local cluster = {}

--- Where kubeadm (and the hard way) keep things on a node.
cluster.PKI = "/etc/kubernetes/pki"
cluster.KUBELET_DIR = "/var/lib/kubelet"
--- FlexVolume plugins: kubelet's and controller-manager's default is under /usr,
--- which is read-only on Fedora CoreOS.
cluster.VOLUME_PLUGIN_DIR = "/var/lib/kubelet/volumeplugins"

local function check(ok, message, level)
  if not ok then error(message, level + 1) end
end

--- The options with defaults filled in, checked; errors name the caller of the
--- public function (`level` frames up from here). opts:
---   nodes         the control nodes, { { name = "control-01", ip = "10.10.16.11" }, ... };
---                 each may set the etcd ports (client_port 2379, ...)
---   node          the name of the node at hand (default: the first)
---   endpoint      the API endpoint, { name = "api.kubelius", ip = "10.10.16.10", port = 6443 }
---   service_cidr  "10.96.0.0/12"; pod_cidr (none); dns_domain "cluster.local"
---   cluster       the cluster's name, "kubernetes"
---   flags         per-flag changes for the component: a value replaces, false removes
---   image         the component's image (default: labrun.kube.versions')
function cluster.options(opts, what, level)
  level = (level or 1) + 1
  check(type(opts) == "table", what .. ": takes a table of options", level)
  check(type(opts.nodes) == "table" and #opts.nodes > 0,
        what .. ": nodes must list the control nodes as { name = ..., ip = ... }", level)
  local me
  for i, node in ipairs(opts.nodes) do
    check(type(node) == "table" and type(node.name) == "string" and type(node.ip) == "string",
          ("%s: nodes[%d] needs a name and an ip"):format(what, i), level)
    if node.name == (opts.node or opts.nodes[1].name) then me = node end
  end
  check(me, ("%s: node %s is not one of the nodes"):format(what, tostring(opts.node)), level)
  local endpoint = opts.endpoint or {}
  local port = endpoint.port or 6443
  return {
    nodes = opts.nodes,
    node = me,
    endpoint = endpoint,
    port = port,
    server = ("https://%s:%d"):format(endpoint.name or endpoint.ip or me.ip, port),
    service_cidr = opts.service_cidr or "10.96.0.0/12",
    pod_cidr = opts.pod_cidr,
    dns_domain = opts.dns_domain or "cluster.local",
    cluster = opts.cluster or "kubernetes",
    flags = opts.flags or {},
    image = opts.image,
  }
end

--- `flags` with the changes of `changes` ({ flag = value or false }) applied.
function cluster.apply(flags, changes)
  for flag, value in pairs(changes or {}) do
    if value == false then flags[flag] = nil else flags[flag] = value end
  end
  return flags
end

--- A path under the node's PKI folder.
function cluster.pki(name)
  return cluster.PKI .. "/" .. name
end

return cluster
