--- The one Kubernetes version the Kubernetes labs are pinned to: its upstream
--- binaries per architecture with their published hashes, and the control
--- plane's images. `versions.lock()` is the data a lab's lock keeps: once a
--- lab is declared, `KUBERNETES`, `versions.CRICTL`,
--- `versions.images` and `versions.binary` answer from the lab's lock
--- (labrun.pin), so a lab brought up a year later by a newer labrun runs the
--- same software until `labrun up --upgrade`.
---
--- Hashes: the sha256 files published beside each binary (dl.k8s.io for
--- kubelet, kubeadm and kubectl; the cri-tools release for the crictl archive),
--- as kubespray records them in roles/kubespray_defaults/vars/main/checksums.yml
--- (kubelet_checksums, kubeadm_checksums, kubectl_checksums, crictl_checksums).
--- Images: kubeadm 1.35's own pins (etcd from Kubernetes v1.35.0's
--- build/dependencies.yaml, CoreDNS and pause from kubeadm's constants).
local versions = {}

--- The Kubernetes release this labrun pins new labs to.
local KUBERNETES = "1.35.1"
--- The crictl release of the same minor version.
local CRICTL = "1.35.0"

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
local IMAGES = {
  ["kube-apiserver"] = "registry.k8s.io/kube-apiserver:v" .. KUBERNETES,
  ["kube-controller-manager"] = "registry.k8s.io/kube-controller-manager:v" .. KUBERNETES,
  ["kube-scheduler"] = "registry.k8s.io/kube-scheduler:v" .. KUBERNETES,
  ["kube-proxy"] = "registry.k8s.io/kube-proxy:v" .. KUBERNETES,
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

--- The lock this labrun makes for a new lab: the versions, every download
--- of every architecture with its hash, and the images. The same table every
--- time (no clock, no network).
function versions.lock()
  local binaries = {}
  for _, arch in ipairs { "amd64", "arm64" } do
    binaries[arch] = {}
    for name, sums in pairs(SHA256) do
      local url = name == "crictl" and URLS.crictl:format(CRICTL, CRICTL, arch) or URLS[name]:format(KUBERNETES, arch)
      binaries[arch][name] = { url = url, sha256 = sums[arch] }
    end
  end
  local images = {}
  for component, image in pairs(IMAGES) do images[component] = image end
  return { kubernetes = KUBERNETES, crictl = CRICTL, binaries = binaries, images = images }
end

local pinned
--- The lab's lock: pinned at the lab's first use, read back ever after.
--- Before a lab is declared there is nothing to pin to: this labrun's own.
local function current()
  if pinned then return pinned end
  local ok, kept = pcall(labrun.pin, "kubernetes", versions.lock())
  if ok then pinned = kept; return kept end
  return versions.lock()
end

setmetatable(versions, {
  __index = function(_, key)
    if key == "KUBERNETES" then return current().kubernetes end
    if key == "CRICTL" then return current().crictl end
    if key == "images" then return current().images end
  end,
})

--- One download: { name, url, sha256 (hex), hash ("sha256-<hex>", Ignition's form) }.
function versions.binary(name, arch)
  if not SHA256[name] then error(("kube.versions: no binary %q (known: crictl, kubeadm, kubectl, kubelet)"):format(tostring(name)), 2) end
  arch = versions.arch(arch)
  local by_arch = current().binaries[arch]
  local b = by_arch and by_arch[name]
  if not b then error(("kube.versions: no %s for architecture %q"):format(name, arch), 2) end
  return { name = name, url = b.url, sha256 = b.sha256, hash = "sha256-" .. b.sha256 }
end

return versions
