--- Network helpers: a public subnet with a NAT instance routing for private subnets.
local coreos = require "labrun.coreos"
local net = {}

--- The Ignition of a NAT gateway: IP forwarding and a MASQUERADE unit for `cidrs`.
function net.nat_ignition(opts)
  local rules = {}
  for _, cidr in ipairs(opts.cidrs) do
    rules[#rules + 1] = ("ExecStart=/usr/sbin/iptables -t nat -A POSTROUTING -s %s ! -d %s -j MASQUERADE"):format(cidr, cidr)
  end
  return coreos.config {
    hostname = opts.hostname,
    ssh_keys = opts.ssh_keys,
    host_key = opts.host_key,
    sysctl = { ["net.ipv4.ip_forward"] = 1 },
    units = {
      ["nat-masquerade.service"] = {
        enabled = true,
        contents = table.concat({
          "[Unit]",
          "Description=Masquerade traffic from the private subnets",
          "After=network-online.target",
          "Wants=network-online.target",
          "[Service]",
          "Type=oneshot",
          "RemainAfterExit=yes",
          table.concat(rules, "\n"),
          "[Install]",
          "WantedBy=multi-user.target",
          "",
        }, "\n"),
      },
    },
    butane = opts.butane,
  }
end

--- Who may connect: a CIDR, or "auto" (the default) for this machine's own
--- public address as a /32 (labrun.public_address), so a port is open to
--- the user alone unless "0.0.0.0/0" is asked for on purpose.
function net.from(cidr)
  if cidr == nil or cidr == "auto" then return labrun.public_address() end
  return cidr
end

--- A NAT instance instead of a managed NAT Gateway. Declares, named `opts.name`
--- (default "gateway"): an internet gateway, a public subnet (`opts.cidr`) routed to it,
--- a security group (SSH from `opts.ssh_from`, default "auto": net.from; everything from the served subnets),
--- a network interface with the fixed IP `opts.ip` and source/destination check off,
--- an Elastic IP on it, the instance, and a route table sending 0.0.0.0/0 from every
--- subnet in `opts.serves` to the interface. Returns the handles.
function net.nat_instance(lab, opts)
  local name = opts.name or "gateway"
  local type = opts.type or "t4g.nano"
  local igw = lab:internet_gateway(name, { vpc = opts.vpc })
  local subnet = lab:subnet(name, { vpc = opts.vpc, cidr = opts.cidr, az = opts.az })
  lab:route_table(name, { vpc = opts.vpc, routes = { { cidr = "0.0.0.0/0", gateway = igw } }, subnets = { subnet } })
  local ingress = { { protocol = "tcp", port = 22, cidr = net.from(opts.ssh_from), description = "ssh" } }
  local cidrs = {}
  for _, served in ipairs(opts.serves) do
    cidrs[#cidrs + 1] = served.cidr
    ingress[#ingress + 1] = { protocol = "all", cidr = served.cidr, description = "traffic to NAT" }
  end
  for _, rule in ipairs(opts.ingress or {}) do ingress[#ingress + 1] = rule end
  local sg = lab:security_group(name, { vpc = opts.vpc, ingress = ingress })
  local eni = lab:network_interface(name, {
    subnet = subnet, private_ip = opts.ip, security_groups = { sg }, source_dest_check = false,
  })
  local eip = lab:elastic_ip(name, { network_interface = eni, depends_on = { igw } })
  local instance = lab:instance(name, {
    network_interface = eni,
    type = type,
    image = opts.image or coreos.ami("stable", coreos.arch(type)),
    key_pair = opts.key_pair,
    user_data = opts.user_data or net.nat_ignition {
      hostname = name, cidrs = cidrs, ssh_keys = opts.ssh_keys, host_key = opts.host_key, butane = opts.butane,
    },
    spot = opts.spot,
  })
  local routes = lab:route_table(name .. "-routes", {
    vpc = opts.vpc, routes = { { cidr = "0.0.0.0/0", network_interface = eni } }, subnets = opts.serves,
  })
  return { igw = igw, subnet = subnet, security_group = sg, interface = eni, eip = eip, instance = instance, routes = routes }
end

return net
