--- The base every Kubernetes node of the labs shares, as Butane for Fedora
--- CoreOS: hostname and /etc/hosts; the kernel modules and sysctls pods need;
--- Zincati kept from updating (and rebooting) a node mid-lab; and the
--- software, in one of two ways:
---
---   install = "binaries" (default): no reboot. The containerd Fedora CoreOS
---     ships, enabled with the systemd cgroup driver and SELinux; the pinned
---     upstream kubelet, kubeadm, kubectl and crictl written into
---     /usr/local/bin by Ignition, each checked against its published hash;
---     the kubelet unit and kubeadm's drop-in.
---   install = "rpm-ostree": the write-up's way. A one-shot unit layers the
---     kubelet, kubeadm, kubectl and cri-o packages of the pinned minor
---     version, reboots into them, then enables cri-o and the kubelet.
local coreos, kubelet, versions = require "labrun.coreos", require "labrun.kube.kubelet", require "labrun.kube.versions"
local node = {}

local function mode(octal) return tonumber(octal, 8) end

--- Checks node.butane's options; errors name the line `level` frames up.
local function validate(opts, level)
  local function check(ok, message)
    if not ok then error("kube.node: " .. message, level + 1) end
  end
  check(type(opts) == "table" and type(opts.name) == "string", "takes { name = <hostname>, ... }")
  local install = opts.install or "binaries"
  check(install == "binaries" or install == "rpm-ostree",
        ("install must be \"binaries\" or \"rpm-ostree\", not %q"):format(tostring(install)))
end

--- The CRI socket of an install way.
function node.runtime(install)
  return (install or "binaries") == "rpm-ostree" and kubelet.CRIO or kubelet.CONTAINERD
end

--- The kubelet unit: /usr/local/bin/kubelet, restarted every 10 s until kubeadm
--- (or Ignition, the hard way) has written its configuration.
node.KUBELET_UNIT = [[
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target containerd.service
After=network-online.target containerd.service crictl-install.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
]]

--- kubeadm's kubelet drop-in: kubeconfig (or bootstrap kubeconfig), config file,
--- and the flags kubeadm writes at run time.
node.KUBEADM_DROPIN = [[
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/sysconfig/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
]]

--- containerd's CRI plugin (config version 2, which containerd 1.7 and 2.x read):
--- runc with systemd cgroups, SELinux labels for containers, the pinned pause
--- image, and the CNI plugins Fedora CoreOS ships.
function node.containerd_config()
  return table.concat({
    "version = 2",
    "",
    "[plugins.\"io.containerd.grpc.v1.cri\"]",
    "  enable_selinux = true",
    ("  sandbox_image = %q"):format(versions.images.pause),
    "",
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]",
    "  runtime_type = \"io.containerd.runc.v2\"",
    "",
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]",
    "  SystemdCgroup = true",
    "",
    "[plugins.\"io.containerd.grpc.v1.cri\".cni]",
    "  bin_dir = \"/usr/libexec/cni\"",
    "  conf_dir = \"/etc/cni/net.d\"",
    "",
  }, "\n")
end

--- crictl's crictl-install.service: unpacks the checked archive once.
local CRICTL_ARCHIVE = "/var/lib/labrun/crictl.tar.gz"
local CRICTL_UNIT = table.concat({
  "[Unit]",
  "Description=Unpack crictl into /usr/local/bin",
  "ConditionPathExists=!/usr/local/bin/crictl",
  "Before=kubelet.service",
  "[Service]",
  "Type=oneshot",
  "RemainAfterExit=yes",
  "ExecStart=/usr/bin/tar -xzf " .. CRICTL_ARCHIVE .. " -C /usr/local/bin crictl",
  "[Install]",
  "WantedBy=multi-user.target",
  "",
}, "\n")

--- A downloaded file checked against its published hash.
local function download(path, binary, file_mode)
  return { path = path, mode = mode(file_mode), contents = { source = binary.url, verification = { hash = binary.hash } } }
end

--- The "binaries" way's files and units.
local function binaries(arch, files, units)
  for _, name in ipairs { "kubelet", "kubeadm", "kubectl" } do
    files[#files + 1] = download("/usr/local/bin/" .. name, versions.binary(name, arch), "0755")
  end
  files[#files + 1] = download(CRICTL_ARCHIVE, versions.binary("crictl", arch), "0644")
  files[#files + 1] = { path = "/etc/containerd/config.toml", mode = mode("0644"), overwrite = true,
                        contents = { inline = node.containerd_config() } }
  files[#files + 1] = { path = "/etc/crictl.yaml", mode = mode("0644"),
                        contents = { inline = "runtime-endpoint: " .. kubelet.CONTAINERD .. "\n" } }
  units[#units + 1] = { name = "containerd.service", enabled = true }
  units[#units + 1] = { name = "crictl-install.service", enabled = true, contents = CRICTL_UNIT }
  units[#units + 1] = {
    name = "kubelet.service", enabled = true, contents = node.KUBELET_UNIT,
    dropins = { { name = "10-kubeadm.conf", contents = node.KUBEADM_DROPIN } },
  }
end

--- The minor version's package repositories (Kubernetes' and CRI-O's).
local function repos()
  local minor = versions.KUBERNETES:match("^(%d+%.%d+)")
  local function repo(id, name, base)
    return table.concat({
      "[" .. id .. "]", "name=" .. name, "baseurl=" .. base, "enabled=1", "gpgcheck=1",
      "gpgkey=" .. base .. "repodata/repomd.xml.key", "",
    }, "\n")
  end
  return repo("kubernetes", "Kubernetes", ("https://pkgs.k8s.io/core:/stable:/v%s/rpm/"):format(minor))
    .. repo("cri-o", "CRI-O", ("https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v%s/rpm/"):format(minor))
end

--- The "rpm-ostree" way's script: layer, reboot, then enable.
local function layering_script()
  local v = versions.KUBERNETES
  return table.concat({
    "#!/bin/sh",
    "# First boot: layer the Kubernetes packages and reboot into them.",
    "# Second boot: start cri-o and the kubelet.",
    "set -eu",
    "if ! command -v kubeadm >/dev/null; then",
    ("  rpm-ostree install --idempotent --allow-inactive kubelet-%s kubeadm-%s kubectl-%s cri-o"):format(v, v, v),
    "  systemctl --no-block reboot",
    "  exit 0",
    "fi",
    "systemctl enable --now crio.service kubelet.service",
    "",
  }, "\n")
end

local function layering(files, units)
  files[#files + 1] = { path = "/etc/yum.repos.d/kubernetes.repo", mode = mode("0644"), contents = { inline = repos() } }
  files[#files + 1] = { path = "/usr/local/libexec/labrun-kube-install", mode = mode("0755"),
                        contents = { inline = layering_script() } }
  units[#units + 1] = {
    name = "labrun-kube-install.service", enabled = true,
    contents = table.concat({
      "[Unit]",
      "Description=Layer kubelet, kubeadm, kubectl and cri-o, reboot, enable them",
      "Wants=network-online.target",
      "After=network-online.target",
      "[Service]",
      "Type=oneshot",
      "RemainAfterExit=yes",
      "ExecStart=/usr/local/libexec/labrun-kube-install",
      "[Install]",
      "WantedBy=multi-user.target",
      "",
    }, "\n"),
  }
end

--- The node base as a Butane table (fcos 1.6.0). opts:
---   name      the node's hostname (required)
---   arch      "arm64"/"amd64", a Fedora CoreOS arch, or an instance type (default "arm64")
---   hosts     { ["api.kubelius"] = "10.10.16.10", ... }: appended to /etc/hosts
---   install   "binaries" (default) or "rpm-ostree"
---   files     more files, { [path] = { contents = ..., mode = "0600" } } (e.g. kube.files[name])
---   ssh_keys, host_key   as coreos.fragment
function node.butane(opts)
  validate(opts, 3)
  local install = opts.install or "binaries"
  local base = coreos.fragment {
    hostname = opts.name, ssh_keys = opts.ssh_keys, host_key = opts.host_key, files = opts.files, hosts = opts.hosts,
    sysctl = {
      ["net.ipv4.ip_forward"] = 1,
      ["net.bridge.bridge-nf-call-iptables"] = 1,
      ["net.bridge.bridge-nf-call-ip6tables"] = 1,
    },
  }
  local files, units = {}, {}
  files[#files + 1] = { path = "/etc/modules-load.d/kubernetes.conf", mode = mode("0644"),
                        contents = { inline = "overlay\nbr_netfilter\n" } }
  files[#files + 1] = { path = "/etc/zincati/config.d/90-labrun-no-updates.toml", mode = mode("0644"),
                        contents = { inline = "# A lab node keeps the image it booted: no update, no reboot.\n[updates]\nenabled = false\n" } }
  if install == "binaries" then binaries(opts.arch or "arm64", files, units) else layering(files, units) end
  return labrun.ignition.merge(base, {
    variant = "fcos", version = "1.6.0",
    storage = {
      directories = { { path = "/etc/kubernetes/manifests", mode = mode("0755") },
                      { path = "/var/lib/etcd", mode = mode("0700") } },
      files = files,
    },
    systemd = { units = units },
  })
end

--- Ignition JSON of node.butane(opts), merged with opts.butane (more Butane, as a table).
function node.config(opts)
  validate(opts, 3)
  local config = node.butane(opts)
  if opts.butane then config = labrun.ignition.merge(config, opts.butane) end
  return labrun.ignition.translate(config)
end

return node
