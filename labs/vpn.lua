-- WireGuard VPN: the NAT lab's network with a WireGuard server on its gateway, so your laptop or phone reaches the private subnet.
-- The gateway gets the server's wg0.conf by Ignition and opens its UDP port
-- (`--var vpn_port=51820`) to `--var vpn_from=CIDR` (default: your own address). One
-- config per client (`--var clients=laptop,phone`) lands in the lab folder's
-- files/wireguard/: `labrun wg vpn laptop` prints it, `--qr` draws it for
-- the mobile app. Keys and tunnel addresses are kept with the lab: after
-- down and up only the Endpoint (the gateway's new Elastic IP) changes.
local coreos, wireguard = require "labrun.coreos", require "labrun.wireguard"

local lab = labrun.lab { name = labrun.var("name", "vpn"), region = labrun.var("region", "us-east-1") }
local type = labrun.var("type", "t4g.nano")
local user_key = labrun.ssh.user_key()
local key_pair = lab:key_pair("lab", { public_key = user_key.public })

local vpc = lab:vpc("lab", { cidr = "10.10.16.0/20" })
local private = lab:subnet("instances", { vpc = vpc, cidr = "10.10.16.0/24" })

local gw_key = labrun.ssh.host_key("gateway")
local gw, vpn = wireguard.gateway(lab, {
  vpc = vpc, cidr = "10.10.31.0/24", ip = "10.10.31.10", serves = { private },
  type = type, ssh_from = labrun.var("ssh_from", "auto"),
  key_pair = key_pair.key_name, ssh_keys = { user_key.public }, host_key = gw_key,
  wireguard = {
    clients = labrun.var("clients", "laptop"),
    port = labrun.var("vpn_port", wireguard.PORT),
    from = labrun.var("vpn_from", "auto"),
  },
})
labrun.ssh.node("gateway", { host = gw.eip.public_ip, host_key = gw_key.public })

-- VPN clients arrive masqueraded as the gateway.
local sg = lab:security_group("instances", {
  vpc = vpc,
  ingress = { { protocol = "all", cidr = gw.subnet.cidr, description = "everything from the gateway subnet" } },
})

for i = 1, labrun.var("nodes", 1) do
  local name = ("instance-%02d"):format(i)
  local host_key = labrun.ssh.host_key(name)
  local instance = lab:instance(name, {
    subnet = private, security_groups = { sg },
    type = type, image = coreos.ami("stable", coreos.arch(type)), key_pair = key_pair.key_name,
    user_data = coreos.config { hostname = name, ssh_keys = { user_key.public }, host_key = host_key },
  })
  labrun.ssh.node(name, { host = instance.private_ip, jump = "gateway", host_key = host_key.public })
end

lab:output("endpoint", gw.eip.public_ip .. ":" .. vpn.port)
