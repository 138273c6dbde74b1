-- A NAT instance instead of a $0.045/h managed NAT Gateway: a VPC with a
-- private subnet of two instances and a gateway instance (Elastic IP,
-- source/destination check off, IP forwarding and MASQUERADE by Ignition).
-- The private subnet's default route goes to the gateway's network interface.
local net, coreos = require "labrun.net", require "labrun.coreos"

local lab = labrun.lab { name = labrun.var("name", "nat"), region = labrun.var("region", "us-east-1") }
local type = labrun.var("type", "t4g.nano")
local ssh_keys = { labrun.var("ssh_key", nil) }

local vpc = lab:vpc("lab", { cidr = "10.10.16.0/20" })
local private = lab:subnet("instances", { vpc = vpc, cidr = "10.10.16.0/24" })

local gw = net.nat_instance(lab, {
  vpc = vpc, cidr = "10.10.31.0/24", ip = "10.10.31.10", serves = { private },
  type = type, ssh_from = labrun.var("ssh_from", "0.0.0.0/0"), ssh_keys = ssh_keys,
})

local sg = lab:security_group("instances", {
  vpc = vpc,
  ingress = { { protocol = "tcp", port = 22, cidr = gw.subnet.cidr, description = "ssh from the gateway subnet" } },
})

for i = 1, 2 do
  local name = ("instance-%02d"):format(i)
  lab:instance(name, {
    subnet = private, security_groups = { sg },
    type = labrun.var(name .. "_type", type), image = coreos.ami("stable", coreos.arch(type)),
    user_data = coreos.config { hostname = name, ssh_keys = ssh_keys },
  })
end

lab:output("gateway_ip", gw.eip.public_ip)
