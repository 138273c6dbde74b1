--- What both Kubernetes labs declare in AWS: a VPC; a private subnet for the
--- control nodes with fixed IPs; the gateway (NAT instance and WireGuard
--- server, labrun.wireguard.gateway) in its public subnet, also serving the
--- API endpoint (labrun.kube.api_lb); the control
--- nodes' security group; the nodes themselves, reachable over SSH through
--- the gateway. The labs differ only in what the nodes' Ignition holds and
--- in their after-up steps.
local coreos, wireguard = require "labrun.coreos", require "labrun.wireguard"
local api_lb, node = require "labrun.kube.api_lb", require "labrun.kube.node"
local kube_lab = {}

--- The labs' defaults: names, addresses, sizes.
kube_lab.VPC = "10.10.16.0/20"
kube_lab.CONTROL = "10.10.16.0/24"
kube_lab.PUBLIC = "10.10.31.0/24"
kube_lab.GATEWAY_IP = "10.10.31.10"
--- The API endpoint's address with `lb = "nlb"` (the write-up's).
kube_lab.NLB_IP = "10.10.16.10"

--- The control nodes from `names` and `ips` (comma-separated, as --var gives them):
--- { { name = "control-01", ip = "10.10.16.11" }, ... }.
function kube_lab.nodes(names, ips)
  local list, i = {}, 0
  for name in names:gmatch("[^,%s]+") do
    i = i + 1
    list[i] = { name = name }
  end
  local j = 0
  for ip in ips:gmatch("[^,%s]+") do
    j = j + 1
    if not list[j] then error(("kube lab: %d IPs for %d node names"):format(j, i), 2) end
    list[j].ip = ip
  end
  if i ~= j or i == 0 then error(("kube lab: %d node names and %d IPs"):format(i, j), 2) end
  return list
end

--- The variables both labs take (--var name=value), with their defaults:
---   nodes, ips      the control nodes ("control-01,control-02,control-03",
---                   "10.10.16.11,10.10.16.12,10.10.16.13")
---   type, spot      their instance type ("t4g.small") and whether spot (true)
---   api_name        "api.kubelius"; ssh_from "auto" (this machine's address)
---   gateway_type, gateway_spot   "t4g.nano", false
---   lb              the API endpoint: "gateway" (HAProxy on the gateway, free) or "nlb"
---   clients, vpn_port, vpn_from   the gateway's WireGuard clients ("laptop"), its UDP
---                   port (51820) and who may reach it ("auto"), as in labs/vpn.lua
--- Returns them as the options of kube_lab.network and kube_lab.control_nodes.
function kube_lab.settings()
  return {
    nodes = kube_lab.nodes(labrun.var("nodes", "control-01,control-02,control-03"),
                           labrun.var("ips", "10.10.16.11,10.10.16.12,10.10.16.13")),
    type = labrun.var("type", "t4g.small"),
    spot = labrun.var("spot", true),
    api_name = labrun.var("api_name", "api.kubelius"),
    ssh_from = labrun.var("ssh_from", "auto"),
    gateway_type = labrun.var("gateway_type", "t4g.nano"),
    gateway_spot = labrun.var("gateway_spot", false),
    lb = labrun.var("lb", "gateway"),
    wireguard = {
      clients = labrun.var("clients", "laptop"),
      port = labrun.var("vpn_port", wireguard.PORT),
      from = labrun.var("vpn_from", "auto"),
    },
  }
end

--- Declares the network, the gateway with the API endpoint on it, and the control
--- nodes' security group. opts:
---   nodes      the control nodes (kube_lab.nodes)
---   api_name   the API endpoint's name ("api.kubelius"), served at the gateway's IP
---   ssh_from   who may SSH to the gateway ("auto": this machine's address)
---   gateway_type, gateway_spot   the gateway's instance type ("t4g.nano"), spot or not
---   lb         the API endpoint: "gateway" (default: HAProxy on the gateway, labrun.kube.api_lb)
---              or "nlb" (an internal network load balancer at kube_lab.NLB_IP, api_lb.nlb)
---   wireguard  the gateway's WireGuard server (labrun.wireguard.server's options): its
---              clients reach the VPC, the API endpoint included, through the tunnel
---   user_key   labrun.ssh.user_key(); key_pair its key pair's name
--- Returns { vpc, subnet, gateway (net.nat_instance's handles), vpn (the WireGuard
--- server), security_group, api = { name, ip, port, via (what serves it),
--- url_by_ip (the endpoint by its address, what a VPN client connects to) } }.
function kube_lab.network(lab, opts)
  local lb = opts.lb or "gateway"
  if lb ~= "gateway" and lb ~= "nlb" then
    error(("kube lab: lb must be \"gateway\" or \"nlb\", not %q"):format(tostring(lb)), 2)
  end
  local vpc = lab:vpc("lab", { cidr = kube_lab.VPC })
  local subnet = lab:subnet("control", { vpc = vpc, cidr = kube_lab.CONTROL })
  local api = {
    name = opts.api_name or "api.kubelius", port = 6443,
    ip = lb == "nlb" and kube_lab.NLB_IP or kube_lab.GATEWAY_IP,
    via = lb == "nlb" and "network load balancer" or "HAProxy on the gateway",
  }
  api.url_by_ip = ("https://%s:%d"):format(api.ip, api.port)
  local gw_key = labrun.ssh.host_key("gateway")
  -- the gateway resolves the API name too: `labrun proxy` connects to it from there
  local butane = coreos.fragment { hosts = { [api.name] = api.ip } }
  if lb == "gateway" then
    butane = labrun.ignition.merge(butane, api_lb.butane { servers = opts.nodes, port = api.port })
  else
    api_lb.nlb(lab, { vpc = vpc, subnet = subnet, ip = api.ip, nodes = opts.nodes, port = api.port, from = kube_lab.VPC })
  end
  local gateway, vpn = wireguard.gateway(lab, {
    vpc = vpc, cidr = kube_lab.PUBLIC, ip = kube_lab.GATEWAY_IP, serves = { subnet },
    type = opts.gateway_type or "t4g.nano", spot = opts.gateway_spot, ssh_from = opts.ssh_from,
    key_pair = opts.key_pair, ssh_keys = { opts.user_key.public }, host_key = gw_key, butane = butane,
    wireguard = opts.wireguard or {},
  })
  labrun.ssh.node("gateway", { host = gateway.eip.public_ip, host_key = gw_key.public })
  local sg = lab:security_group("control", {
    vpc = vpc,
    ingress = {
      { protocol = "tcp", port = 22, cidr = kube_lab.PUBLIC, description = "ssh from the gateway" },
      { protocol = "tcp", port = 6443, cidr = kube_lab.VPC, description = "API from the VPC (the load balancer)" },
      -- VPN clients reach the endpoint on the gateway (HAProxy), or the NLB
      -- masqueraded as the gateway; by their tunnel addresses too, should the
      -- gateway forward them unmasqueraded
      { protocol = "tcp", port = 6443, cidr = vpn.net, description = "API from the VPN net" },
      { protocol = "tcp", from_port = 2379, to_port = 2380, cidr = kube_lab.CONTROL, description = "etcd between control nodes" },
      { protocol = "tcp", port = 10250, cidr = kube_lab.CONTROL, description = "kubelet from control nodes" },
    },
  })
  return { vpc = vpc, subnet = subnet, gateway = gateway, vpn = vpn, security_group = sg, api = api }
end

--- Declares the control nodes on the network `net` (kube_lab.network's result). opts:
---   nodes      the control nodes
---   type       instance type ("t4g.small": kubeadm wants 2 CPUs and 1700 MB)
---   spot       spot instances
---   install    labrun.kube.node's install way
---   files      function(node) returning the node's files ({ [path] = { contents, mode } })
---   user_key, key_pair   as kube_lab.network
--- Returns the instances by node name.
function kube_lab.control_nodes(lab, net, opts)
  local type = opts.type or "t4g.small"
  local instances = {}
  for _, n in ipairs(opts.nodes) do
    local host_key = labrun.ssh.host_key(n.name)
    instances[n.name] = lab:instance(n.name, {
      subnet = net.subnet, private_ip = n.ip, security_groups = { net.security_group },
      type = type, image = coreos.ami("stable", coreos.arch(type)), spot = opts.spot,
      key_pair = opts.key_pair,
      user_data = node.config {
        name = n.name, arch = type, install = opts.install, hosts = { [net.api.name] = net.api.ip },
        files = opts.files(n), ssh_keys = { opts.user_key.public }, host_key = host_key,
      },
    })
    labrun.ssh.node(n.name, { host = instances[n.name].private_ip, jump = "gateway", host_key = host_key.public })
  end
  return instances
end

return kube_lab
