--- Static pods of the control plane, as kubeadm writes them: a kube-system pod
--- on the host network, its command from a table of flags, probes against
--- the component's health endpoint, host folders mounted read-only.
local yaml = require "labrun.kube.yaml"
local pod = {}

--- Where the kubelet looks for static pod manifests.
pod.MANIFESTS = "/etc/kubernetes/manifests"

--- The command of `binary` with `flags` ({ ["flag-name"] = value }): the binary,
--- then "--flag=value" sorted by flag. A value may be a list, joined by commas.
function pod.command(binary, flags)
  local names = {}
  for flag in pairs(flags) do names[#names + 1] = flag end
  table.sort(names)
  local args = { binary }
  for _, flag in ipairs(names) do
    local value = flags[flag]
    if type(value) == "table" then value = table.concat(value, ",") end
    args[#args + 1] = ("--%s=%s"):format(flag, tostring(value))
  end
  return args
end

--- A probe: an HTTP(S) GET of `path` on `host`:`port`.
local function probe(p, defaults)
  return {
    failureThreshold = p.failures or defaults.failures,
    httpGet = { host = p.host, path = p.path, port = p.port, scheme = p.scheme or "HTTPS" },
    initialDelaySeconds = p.initial_delay or defaults.initial_delay,
    periodSeconds = p.period or 10,
    timeoutSeconds = 15,
  }
end

--- The pod (a table in the Pod's shape) of a control plane component. opts:
---   name         the component ("kube-apiserver"), the pod's name and its container's
---   image        the container image
---   command      the command, a list (see pod.command)
---   probe        { host, port, path, scheme ("HTTPS") } for liveness; readiness and
---                startup use probe.ready_path and probe.startup_path (default: path)
---   requests     { cpu = "250m" }
---   mounts       { { name = "k8s-certs", host = "/etc/kubernetes/pki", path = (host),
---                    writable = false, type = "DirectoryOrCreate" }, ... }
---   annotations  extra metadata annotations
function pod.static(opts)
  local mounts, volumes = {}, {}
  for i, m in ipairs(opts.mounts or {}) do
    mounts[i] = { mountPath = m.path or m.host, name = m.name, readOnly = not m.writable or nil }
    volumes[i] = { hostPath = { path = m.host, type = m.type or "DirectoryOrCreate" }, name = m.name }
  end
  local p = opts.probe
  local function with_path(path, period)
    local copy = {}
    for k, v in pairs(p) do copy[k] = v end
    copy.path, copy.period = path or p.path, period
    return copy
  end
  return {
    apiVersion = "v1",
    kind = "Pod",
    metadata = {
      annotations = opts.annotations,
      labels = { component = opts.name, tier = "control-plane" },
      name = opts.name,
      namespace = "kube-system",
    },
    spec = {
      containers = { {
        command = opts.command,
        image = opts.image,
        imagePullPolicy = "IfNotPresent",
        livenessProbe = probe(p, { failures = 8, initial_delay = 10 }),
        name = opts.name,
        readinessProbe = probe(with_path(p.ready_path, 1), { failures = 3 }),
        resources = { requests = opts.requests or { cpu = "100m" } },
        startupProbe = probe(with_path(p.startup_path), { failures = 24, initial_delay = 10 }),
        volumeMounts = #mounts > 0 and mounts or nil,
      } },
      hostNetwork = true,
      priority = 2000001000,
      priorityClassName = "system-node-critical",
      securityContext = { seccompProfile = { type = "RuntimeDefault" } },
      volumes = #volumes > 0 and volumes or nil,
    },
    status = yaml.EMPTY_MAP,
  }
end

--- The manifest (YAML text) of pod.static(opts).
function pod.manifest(opts)
  return yaml.encode(pod.static(opts))
end

return pod
