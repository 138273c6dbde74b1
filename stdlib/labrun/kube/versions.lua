--- The one Kubernetes version the Kubernetes labs are pinned to: its upstream
--- binaries per architecture with their published hashes, and the control
--- plane's images. `versions.lock()` is the data a lab's lock keeps, so a lab
--- brought up a year later runs the same software.
---
--- Hashes: the sha256 files published beside each binary (dl.k8s.io for
--- kubelet, kubeadm and kubectl; the cri-tools release for the crictl archive),
--- as kubespray records them in roles/kubespray_defaults/vars/main/checksums.yml
--- (kubelet_checksums, kubeadm_checksums, kubectl_checksums, crictl_checksums).
--- Images: kubeadm 1.35's own pins (etcd from Kubernetes v1.35.0's
--- build/dependencies.yaml, CoreDNS and pause from kubeadm's constants).
local versions = {}

--- The Kubernetes release.
versions.KUBERNETES = "1.35.1"
--- The crictl release of the same minor version.
versions.CRICTL = "1.35.0"

--- Where each binary comes from, by architecture ("amd64", "arm64").
local URLS = {
  kubelet = "https://dl.k8s.io/release/v%s/bin/linux/%s/kubelet",
  kubeadm = "https://dl.k8s.io/release/v%s/bin/linux/%s/kubeadm",
  kubectl = "https://dl.k8s.io/release/v%s/bin/linux/%s/kubectl",
  crictl = "https://github.com/kubernetes-sigs/cri-tools/releases/download/v%s/crictl-v%s-linux-%s.tar.gz",
}

--- sha256 of each download, as published upstream.
local SHA256 = {
  kubelet = {
    amd64 = "e7343310e03ff0d424df4397bdfa4468947d6d1f0f93dac586c1e8d6e4086d5d",
    arm64 = "73475c6db8fd8a9780b1b378fa2f917875e6146166c24603c1abc6eafd4493a8",
  },
  kubeadm = {
    amd64 = "8a7ff344eef1bfba88f9a74b3fdc9ea4448c94f1b3cefb8c0aeeaf1f96e05053",
    arm64 = "80097a3c4ef824f4edfe131d2bd429772c4be3a460c42a44f2320164a917de32",
  },
  kubectl = {
    amd64 = "36e2f4ac66259232341dd7866952d64a958846470f6a9a6a813b9117bd965207",
    arm64 = "706256e21a4e9192ee62d1a007ac0bfcff2b0b26e92cc7baad487a6a5d08ff82",
  },
  -- of the archive crictl-v1.35.0-linux-ARCH.tar.gz
  crictl = {
    amd64 = "2e141e5b22cb189c40365a11807d69b76b9b3caced89fac2f4ec879408ce2177",
    arm64 = "519071de89b64c43e2a1661bb5489c6c3fd5e9e5fcef75e50e542b0c891f1118",
  },
}

--- The control plane's images, by component.
versions.images = {
  ["kube-apiserver"] = "registry.k8s.io/kube-apiserver:v" .. versions.KUBERNETES,
  ["kube-controller-manager"] = "registry.k8s.io/kube-controller-manager:v" .. versions.KUBERNETES,
  ["kube-scheduler"] = "registry.k8s.io/kube-scheduler:v" .. versions.KUBERNETES,
  ["kube-proxy"] = "registry.k8s.io/kube-proxy:v" .. versions.KUBERNETES,
  etcd = "registry.k8s.io/etcd:3.6.6-0",
  coredns = "registry.k8s.io/coredns/coredns:v1.13.1",
  pause = "registry.k8s.io/pause:3.10.1",
}

--- Kubernetes' name of the architecture of a Fedora CoreOS one or an instance
--- type: "aarch64" or "t4g.small" -> "arm64"; "x86_64" or "t3.small" -> "amd64".
function versions.arch(arch_or_type)
  if arch_or_type == "arm64" or arch_or_type == "amd64" then return arch_or_type end
  if arch_or_type == "aarch64" then return "arm64" end
  if arch_or_type == "x86_64" then return "amd64" end
  local coreos = require "labrun.coreos"
  return versions.arch(coreos.arch(arch_or_type))
end

--- One download: { name, url, sha256 (hex), hash ("sha256-<hex>", Ignition's form) }.
function versions.binary(name, arch)
  local sums = SHA256[name]
  if not sums then error(("kube.versions: no binary %q (known: crictl, kubeadm, kubectl, kubelet)"):format(tostring(name)), 2) end
  arch = versions.arch(arch)
  local sum = sums[arch]
  if not sum then error(("kube.versions: no %s for architecture %q"):format(name, arch), 2) end
  local url = name == "crictl" and URLS.crictl:format(versions.CRICTL, versions.CRICTL, arch)
    or URLS[name]:format(versions.KUBERNETES, arch)
  return { name = name, url = url, sha256 = sum, hash = "sha256-" .. sum }
end

--- The lock: the pinned versions, every download of every architecture with its
--- hash, and the images. The same table every time (no clock, no network).
function versions.lock()
  local binaries = {}
  for _, arch in ipairs { "amd64", "arm64" } do
    binaries[arch] = {}
    for _, name in ipairs { "crictl", "kubeadm", "kubectl", "kubelet" } do
      local b = versions.binary(name, arch)
      binaries[arch][name] = { url = b.url, sha256 = b.sha256 }
    end
  end
  local images = {}
  for component, image in pairs(versions.images) do images[component] = image end
  return { kubernetes = versions.KUBERNETES, crictl = versions.CRICTL, binaries = binaries, images = images }
end

return versions
