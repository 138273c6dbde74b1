--- kube-scheduler as a static pod, with the flags kubeadm gives it: its
--- kubeconfig (for the API, and for authenticating and authorizing the
--- requests to its own port) and leader election among the control nodes.
local cluster, pod, versions = require "labrun.kube.cluster", require "labrun.kube.pod", require "labrun.kube.versions"
local scheduler = {}

--- Where the kubelet finds the manifest.
scheduler.PATH = pod.MANIFESTS .. "/kube-scheduler.yaml"
--- Its kubeconfig, which labrun.kube.pki writes.
scheduler.KUBECONFIG = "/etc/kubernetes/scheduler.conf"

--- The flags (a table: flag = value) of kube-scheduler; options as labrun.kube.cluster.options.
function scheduler.flags(opts)
  local o = cluster.options(opts, "kube.scheduler", 2)
  return cluster.apply({
    ["authentication-kubeconfig"] = scheduler.KUBECONFIG,
    ["authorization-kubeconfig"] = scheduler.KUBECONFIG,
    ["bind-address"] = "127.0.0.1",
    ["kubeconfig"] = scheduler.KUBECONFIG,
    ["leader-elect"] = "true",
  }, o.flags)
end

--- The static pod manifest (YAML) of kube-scheduler.
function scheduler.manifest(opts)
  local o = cluster.options(opts, "kube.scheduler", 2)
  return pod.manifest {
    name = "kube-scheduler",
    image = o.image or versions.images["kube-scheduler"],
    command = pod.command("kube-scheduler", scheduler.flags(opts)),
    probe = { host = "127.0.0.1", port = 10259, path = "/livez", ready_path = "/readyz" },
    requests = { cpu = "100m" },
    mounts = { { name = "kubeconfig", host = scheduler.KUBECONFIG, type = "FileOrCreate" } },
  }
end

return scheduler
