-- A NAT instance instead of a $0.045/h managed NAT Gateway.
-- A VPC with a private subnet of two instances and a gateway instance (Elastic IP,
-- source/destination check off, IP forwarding and MASQUERADE by Ignition).
-- The private subnet's default route goes to the gateway's network interface.
-- Every node's SSH host key is made here and written by Ignition, so
-- `ssh -F <lab folder>/ssh_config instance-01` trusts nothing on first use.
local net, coreos = require "labrun.net", require "labrun.coreos"

local lab = labrun.lab { name = labrun.var("name", "nat"), region = labrun.var("region", "us-east-1") }
local type = labrun.var("type", "t4g.nano")
local user_key = labrun.ssh.user_key()
local key_pair = lab:key_pair("lab", { public_key = user_key.public })

local vpc = lab:vpc("lab", { cidr = "10.10.16.0/20" })
local private = lab:subnet("instances", { vpc = vpc, cidr = "10.10.16.0/24" })

local gw_key = labrun.ssh.host_key("gateway")
local gw = net.nat_instance(lab, {
  vpc = vpc, cidr = "10.10.31.0/24", ip = "10.10.31.10", serves = { private },
  type = type, ssh_from = labrun.var("ssh_from", "auto"),
  key_pair = key_pair.key_name, ssh_keys = { user_key.public }, host_key = gw_key,
})
labrun.ssh.node("gateway", { host = gw.eip.public_ip, host_key = gw_key.public })

local sg = lab:security_group("instances", {
  vpc = vpc,
  ingress = { { protocol = "tcp", port = 22, cidr = gw.subnet.cidr, description = "ssh from the gateway subnet" } },
})

for i = 1, 2 do
  local name = ("instance-%02d"):format(i)
  local host_key = labrun.ssh.host_key(name)
  local instance = lab:instance(name, {
    subnet = private, security_groups = { sg },
    type = labrun.var(name .. "_type", type), image = coreos.ami("stable", coreos.arch(type)),
    key_pair = key_pair.key_name,
    user_data = coreos.config { hostname = name, ssh_keys = { user_key.public }, host_key = host_key },
  })
  labrun.ssh.node(name, { host = instance.private_ip, jump = "gateway", host_key = host_key.public })
end

lab:output("gateway_ip", gw.eip.public_ip)
