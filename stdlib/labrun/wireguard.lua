--- WireGuard on a lab's gateway: the server's wg0.conf written by the
--- gateway's Ignition (mode 0600) with `wg-quick@wg0` enabled, its UDP port
--- opened in the gateway's security group, and one config per client in
--- the lab folder's files/wireguard/ (mode 0600) for wg-quick or the mobile
--- apps (`labrun wg LAB CLIENT --qr`). Keys, preshared keys and the
--- clients' tunnel addresses are made once and kept with the lab
--- (labrun.wireguard), so a configured client keeps working across down and
--- up and while other clients come and go; only its Endpoint follows the
--- gateway's Elastic IP.
local coreos, net = require "labrun.coreos", require "labrun.net"
local wireguard = {}

--- The UDP port the server listens on unless told.
wireguard.PORT = 51820
--- The server's tunnel address with the tunnel net's prefix unless told.
wireguard.ADDRESS = "10.200.0.1/24"
--- Where the gateway's Ignition writes the server's config.
wireguard.CONFIG = "/etc/wireguard/wg0.conf"
--- The unit that brings the tunnel up at boot.
wireguard.UNIT = "wg-quick@wg0.service"
--- The folder of the lab's files holding the client configs (`labrun wg` reads them there).
wireguard.CLIENTS_DIR = "wireguard"

--- An error blaming the frame `level` above the caller of `fail`.
local function fail(message, level)
  error("labrun.wireguard: " .. message, level + 1)
end

--- Client names from a list or a comma-separated string ("laptop,phone").
local function client_names(clients, level)
  if type(clients) == "string" then
    local list = {}
    for part in clients:gmatch("[^,]+") do list[#list + 1] = part:match("^%s*(.-)%s*$") end
    clients = list
  end
  if type(clients) ~= "table" then
    fail("clients must be a list of names or a string like \"laptop,phone\"", level + 1)
  end
  local names, seen = {}, {}
  for _, name in ipairs(clients) do
    if name ~= "" then
      if seen[name] then fail(("client %s is listed twice"):format(name), level + 1) end
      seen[name] = true
      names[#names + 1] = name
    end
  end
  if #names == 0 then fail("no clients: name at least one (e.g. --var clients=laptop)", level + 1) end
  return names
end

--- The server's options with defaults filled in, checked.
local function settings(opts, level)
  if type(opts) ~= "table" then fail("takes a table of options", level + 1) end
  local port = opts.port or wireguard.PORT
  if math.type(port) ~= "integer" or port < 1 or port > 65535 then
    fail(("port must be a UDP port (1-65535), got %s"):format(tostring(port)), level + 1)
  end
  return {
    clients = client_names(opts.clients or "laptop", level + 1),
    port = port,
    address = opts.address or wireguard.ADDRESS,
    from = require("labrun.net").from(opts.from),
    dns = opts.dns,
  }
end

--- The network of an IPv4 address with its prefix: "10.200.0.1/24" -> "10.200.0.0/24".
local function network(cidr)
  local a, b, c, d, prefix = cidr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/(%d+)$")
  local ip = (tonumber(a) << 24) | (tonumber(b) << 16) | (tonumber(c) << 8) | tonumber(d)
  local mask = (0xffffffff << (32 - tonumber(prefix))) & 0xffffffff
  ip = ip & mask
  return ("%d.%d.%d.%d/%s"):format(ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, prefix)
end

--- The server from checked settings.
local function make(s)
  local wg = labrun.wireguard
  local key = wg.key("server")
  local server = { port = s.port, address = s.address, public_key = key.public, dns = s.dns, clients = {} }
  local peers = {}
  for _, name in ipairs(s.clients) do
    local client_key = wg.key("client." .. name)
    local client = {
      name = name, address = wg.address(name, s.address),
      private_key = client_key.private, public_key = client_key.public, preshared_key = wg.preshared(name),
    }
    server.clients[#server.clients + 1] = client
    peers[#peers + 1] = {
      name = name, public_key = client.public_key, preshared_key = client.preshared_key, address = client.address,
    }
  end
  server.config = wg.server_config { address = s.address, listen_port = s.port, private_key = key.private, peers = peers }
  server.net = network(s.address)
  server.butane = coreos.fragment {
    files = { [wireguard.CONFIG] = { contents = server.config, mode = "0600" } },
    units = { [wireguard.UNIT] = { enabled = true } },
  }
  server.ingress = { { protocol = "udp", port = s.port, cidr = s.from, description = "WireGuard" } }
  return server
end

--- A lab's WireGuard server and its clients. opts:
---   clients  names, a list or "laptop,phone" (default "laptop"); each names its config file
---   port     the UDP port (51820)
---   address  the server's tunnel address with the tunnel net's prefix ("10.200.0.1/24")
---   from     who may reach the port, a CIDR or "auto" (default: this machine's address)
---   dns      name servers the clients use while the tunnel is up (default: their own)
--- Returns { port, address, net (the tunnel net), public_key, dns, config (the wg0.conf text),
--- clients = { { name, address, private_key, public_key, preshared_key } },
--- butane (a Butane fragment writing the config and enabling the unit),
--- ingress (the security group rules opening the port) }.
function wireguard.server(opts)
  local s = settings(opts, 2)
  return make(s)
end

--- Declares one config per client of `server` (from wireguard.server) as a lab file
--- (files/wireguard/NAME.conf, mode 0600): Endpoint = `endpoint` (a host, which may be
--- known only after apply, e.g. gw.eip.public_ip) and the server's port; AllowedIPs =
--- `allowed_ips` and the tunnel net, not 0.0.0.0/0, so the client's own internet stays
--- local; PersistentKeepalive 25.
function wireguard.client_files(lab, server, endpoint, allowed_ips)
  local through = { table.unpack(allowed_ips) }
  through[#through + 1] = server.net
  for _, client in ipairs(server.clients) do
    -- The host is filled in by labrun.template; the rest of the text is
    -- keys (base64), addresses and numbers, so it holds no other "${".
    local text = labrun.wireguard.client_config {
      address = client.address, dns = server.dns, private_key = client.private_key,
      server_public_key = server.public_key, preshared_key = client.preshared_key,
      endpoint = "${endpoint}:" .. server.port, allowed_ips = through,
    }
    lab:file(wireguard.CLIENTS_DIR .. "/" .. client.name .. ".conf",
             labrun.template(text, { endpoint = endpoint }), { mode = "0600" })
  end
end

--- A NAT gateway (labrun.net.nat_instance, with its options) that is also the lab's
--- WireGuard server: `opts.wireguard` holds wireguard.server's options, and `allowed_ips`,
--- what clients reach through the tunnel besides the tunnel net (default: the VPC's
--- block). The server's Butane is merged into the gateway's (with `opts.butane`; a
--- custom `opts.user_data` gets none) and its rule added to `opts.ingress`; the client
--- configs are declared with the gateway's Elastic IP as their endpoint.
--- Returns the gateway's handles (as net.nat_instance) and the server.
function wireguard.gateway(lab, opts)
  local vpn = opts.wireguard or {}
  local s = settings(vpn, 2)
  local server = make(s)
  local gateway = {}
  for k, v in pairs(opts) do gateway[k] = v end
  gateway.wireguard = nil
  gateway.butane = opts.butane and labrun.ignition.merge(opts.butane, server.butane) or server.butane
  gateway.ingress = { table.unpack(opts.ingress or {}) }
  for _, rule in ipairs(server.ingress) do gateway.ingress[#gateway.ingress + 1] = rule end
  local gw = net.nat_instance(lab, gateway)
  wireguard.client_files(lab, server, gw.eip.public_ip, vpn.allowed_ips or { opts.vpc.cidr })
  return gw, server
end

--- Checks that `server` (from wireguard.server or wireguard.gateway) is up on the node
--- `opts.node` ("gateway"): the check "<node>-wireguard" passes when `wg show wg0` there
--- gives the server's public key and port, and the clients' keys as its only peers, each
--- allowed its tunnel address.
function wireguard.check(server, opts)
  local node = (opts or {}).node or "gateway"
  labrun.check(node .. "-wireguard", function(live)
    local r = live.nodes[node]:run("sudo wg show wg0 public-key && sudo wg show wg0 listen-port"
      .. " && sudo wg show wg0 allowed-ips", { check = false })
    if not r.ok then
      return ("wg show wg0 on %s failed (exit %d): %s"):format(node, r.status, net.last_line(r.stderr, "no message"))
    end
    local lines = {}
    for line in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local problems = {}
    if lines[1] ~= server.public_key then
      problems[#problems + 1] = ("its public key is %s, not the lab's %s"):format(lines[1], server.public_key)
    end
    if tonumber(lines[2]) ~= server.port then
      problems[#problems + 1] = ("it listens on %s, not %d"):format(lines[2], server.port)
    end
    local peers = {}
    for i = 3, #lines do
      local key, ips = lines[i]:match("^(%S+)%s+(.-)%s*$")
      if key then peers[key] = ips end
    end
    for _, client in ipairs(server.clients) do
      local ips = peers[client.public_key]
      if not ips then
        problems[#problems + 1] = ("client %s is not a peer"):format(client.name)
      elseif ips ~= client.address .. "/32" then
        problems[#problems + 1] = ("client %s may send from %s, not %s/32"):format(client.name, ips, client.address)
      end
      peers[client.public_key] = nil
    end
    local strangers = {}
    for key in pairs(peers) do strangers[#strangers + 1] = key end
    table.sort(strangers)
    if #strangers > 0 then
      problems[#problems + 1] = "peers the lab does not know: " .. table.concat(strangers, ", ")
    end
    if #problems > 0 then return ("wg0 on %s: %s"):format(node, table.concat(problems, "; ")) end
  end)
end

return wireguard
