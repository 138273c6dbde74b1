---@meta
-- LuaLS definitions of labrun's WireGuard host API (`labrun.wireguard`),
-- for editors. Nothing here runs.

labrun.wireguard = {}

---The key pair named `name`, made once and kept with the lab (secrets entry
---`wireguard`), so configured clients keep working across down and up.
---@param name string e.g. "server" or "client.laptop"
---@return { private: string, public: string } keys in base64, as `wg` prints them
function labrun.wireguard.key(name) end

---The preshared key named `name` (one per client, shared with the server),
---made once and kept with the lab like `key`.
---@param name string
---@return string key in base64
function labrun.wireguard.preshared(name) end

---The tunnel address of client `name`, kept with the lab like `key`: the
---client keeps it while other clients come and go. A new client gets the
---lowest host address of the server's net that neither the server nor
---another client holds.
---@param name string   the client's name: letters, digits, ".", "_", "-" (it names its config file)
---@param server string the server's address with the tunnel net's prefix, e.g. "10.200.0.1/24"
---@return string address e.g. "10.200.0.2"
function labrun.wireguard.address(name, server) end

---@class WireguardPeer
---@field name string            shown as a comment above the peer
---@field public_key string      the client's public key
---@field preshared_key string
---@field address string         the client's address in the tunnel net, allowed as its /32

---@class WireguardServer
---@field address string         the server's address with the tunnel net's prefix, e.g. "10.200.0.1/24"
---@field listen_port integer    UDP port, e.g. 51820
---@field private_key string
---@field peers? WireguardPeer[]

---The server's `wg0.conf` for wg-quick: forwarding and masquerade for the
---tunnel net (PostUp/PostDown), one peer per client.
---@param server WireguardServer
---@return string
function labrun.wireguard.server_config(server) end

---@class WireguardClient
---@field address string         the client's address in the tunnel net, e.g. "10.200.0.2"
---@field dns? string[]          name servers while the tunnel is up
---@field private_key string
---@field server_public_key string
---@field preshared_key string
---@field endpoint string        "HOST:PORT" of the server
---@field allowed_ips string[]   what goes through the tunnel, e.g. the VPC block and the tunnel net

---A client's config for wg-quick or the mobile apps (PersistentKeepalive 25).
---@param client WireguardClient
---@return string
function labrun.wireguard.client_config(client) end
