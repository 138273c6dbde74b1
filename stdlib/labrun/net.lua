--- Network helpers: a public subnet with a NAT instance routing for private subnets.
local coreos = require "labrun.coreos"
local net = {}

--- The rule that masquerades what `cidr` sends elsewhere, as `iptables -S` prints it.
local function masquerade(cidr)
  return ("-A POSTROUTING -s %s ! -d %s -j MASQUERADE"):format(cidr, cidr)
end

--- The Ignition of a NAT gateway: IP forwarding and a MASQUERADE unit for `cidrs`.
function net.nat_ignition(opts)
  local rules = {}
  for _, cidr in ipairs(opts.cidrs) do
    rules[#rules + 1] = "ExecStart=/usr/sbin/iptables -t nat " .. masquerade(cidr)
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
--- subnet in `opts.serves` to the interface. Returns the handles, and `cidrs` (those
--- of the served subnets).
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
  return { igw = igw, subnet = subnet, security_group = sg, interface = eni, eip = eip, instance = instance,
           routes = routes, cidrs = cidrs }
end

--- The first line of `text`, trimmed (or `empty` when there is none): what a command answered.
function net.first_line(text, empty)
  local line = (text or ""):match("^%s*([^\n]*)"):match("^(.-)%s*$")
  if line == "" then return empty end
  return line
end

--- The last line of `text` that is not blank, trimmed (or `empty` when there is none): why
--- a command failed, in its own words, which come after whatever else it printed first.
function net.last_line(text, empty)
  local last = empty
  for line in (text or ""):gmatch("[^\n]+") do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" then last = line end
  end
  return last
end

--- Checks that the NAT instance `nat` (net.nat_instance's result) works. opts:
---   gateway  its node name ("gateway"); nodes  the names of the nodes behind it
---   url      what the nodes fetch ("https://fedoraproject.org")
--- Declares the checks
---   <gateway>-masquerade         its nat table masquerades each served subnet, and it forwards IPv4
---   <gateway>-source-dest-check  AWS has its interface's source/destination check off
---   <node>-internet              the node resolves the URL's name and opens an HTTPS connection
---                                to it, through the gateway (its only way out)
function net.check_nat(nat, opts)
  local gw, url = opts.gateway or "gateway", opts.url or "https://fedoraproject.org"
  labrun.check(gw .. "-masquerade", function(live)
    local node = live.nodes[gw]
    local rules = node:run("sudo iptables -t nat -S POSTROUTING").stdout
    local missing = {}
    for _, cidr in ipairs(nat.cidrs) do
      if not rules:find(masquerade(cidr), 1, true) then missing[#missing + 1] = cidr end
    end
    if #missing > 0 then
      return ("no MASQUERADE rule for %s in %s's nat table (it has: %s)"):format(
        table.concat(missing, ", "), gw, (rules:gsub("%s*\n%s*", "; "):gsub("; $", "")))
    end
    local forward = node:run("sudo sysctl -n net.ipv4.ip_forward").stdout
    if net.first_line(forward) ~= "1" then
      return ("%s does not forward IPv4 (net.ipv4.ip_forward = %s)"):format(gw, net.first_line(forward, "nothing"))
    end
  end)
  labrun.check(gw .. "-source-dest-check", function(live)
    local id = live.attrs[nat.interface.address].id
    local eni = live.aws:network_interface(id)
    if eni.source_dest_check ~= false then
      return ("the source/destination check of %s (%s) is on: AWS drops what the gateway forwards"):format(id, gw)
    end
  end)
  for _, name in ipairs(opts.nodes or {}) do
    labrun.check(name .. "-internet", function(live)
      local r = live.nodes[name]:run(("curl -sS -o /dev/null -w '%%{http_code}' --max-time 20 %s"):format(url),
                                     { check = false, timeout = 30 })
      if not r.ok then
        return ("%s cannot fetch %s (curl exit %d): %s"):format(name, url, r.status, net.last_line(r.stderr, "no message"))
      end
    end, { after = { gw .. "-masquerade", gw .. "-source-dest-check" } })
  end
end

return net
