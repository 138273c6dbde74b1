--- Fedora CoreOS: images and Ignition configs for lab nodes.
local coreos = {}

--- Fedora's AWS account, owner of the official Fedora CoreOS images.
coreos.OWNER = "125523088429"

--- The CPU architecture of an instance type: "aarch64" for Graviton (t4g, m7g...), else "x86_64".
function coreos.arch(instance_type)
  local family = instance_type:match("^(%a+%d+)%a*%.")
  if family and instance_type:match("^%a+%d+g") then return "aarch64" end
  return "x86_64"
end

--- Fedora CoreOS's update streams.
coreos.STREAMS = { stable = true, testing = true, next = true }

--- An image lookup for the newest Fedora CoreOS of a stream ("stable", "testing", "next")
--- and architecture, resolved at apply time.
function coreos.ami(stream, arch)
  stream, arch = stream or "stable", arch or "x86_64"
  if not coreos.STREAMS[stream] then
    error(("coreos.ami: unknown stream %q (streams: stable, testing, next)"):format(tostring(stream)), 2)
  end
  if arch ~= "x86_64" and arch ~= "aarch64" then
    error(("coreos.ami: unknown architecture %q (x86_64 or aarch64)"):format(tostring(arch)), 2)
  end
  return {
    name = "fedora-coreos-*-" .. arch,
    owner = coreos.OWNER,
    architecture = arch == "aarch64" and "arm64" or "x86_64",
    description = "Fedora CoreOS " .. stream .. "*",
  }
end

--- File mode from an octal string: mode "0644" -> 420.
function coreos.mode(octal)
  return tonumber(octal, 8)
end

--- The keys of `t` (or none), sorted, so configs come out the same every time.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- The systemd units that power a node off at `at` (Unix seconds, UTC): a timer
--- (Persistent, so a node that was down at that time powers off as it boots) and
--- its service. With shutdown_behavior "terminate" the instance then ends for good.
function coreos.expiry_units(at)
  local when = os.date("!%Y-%m-%d %H:%M:%S UTC", at)
  return {
    ["labrun-expire.timer"] = { enabled = true, contents = table.concat({
      "[Unit]",
      "Description=Power off at the lab's expiry (" .. when .. ")",
      "[Timer]",
      "OnCalendar=" .. when,
      "Persistent=true",
      "AccuracySec=1min",
      "[Install]",
      "WantedBy=timers.target",
      "",
    }, "\n") },
    ["labrun-expire.service"] = { contents = table.concat({
      "[Unit]",
      "Description=Power off: the lab's time to live is over",
      "[Service]",
      "Type=oneshot",
      "ExecStart=/usr/bin/systemctl --no-block poweroff",
      "",
    }, "\n") },
  }
end

local FRAGMENT_OPTIONS = { "hostname", "ssh_keys", "files", "units", "sysctl", "host_key", "hosts" }

--- A Butane fragment (a Lua table in Butane's shape) for a node:
--- opts.hostname, opts.ssh_keys (list of public keys for user core),
--- opts.files ({ path = { contents, mode = "0644" } }), opts.units ({ name = contents or
--- { contents = ..., enabled = ... } }), opts.sysctl ({ key = value }),
--- opts.host_key (from labrun.ssh.host_key: the node's SSH host key, known before boot),
--- opts.hosts ({ ["api.kubelius"] = "10.10.31.10", ... }: appended to /etc/hosts).
--- In a lab with a ttl (labrun.lab { ttl = "4h" } or --ttl), the node also gets
--- coreos.expiry_units for the lab's expiry.
function coreos.fragment(opts)
  labrun.options("coreos.fragment", opts, FRAGMENT_OPTIONS)
  local files, units = {}, {}
  local expiry = labrun.expiry()
  if expiry then
    local timer = coreos.expiry_units(expiry.at)
    for _, name in ipairs(sorted_keys(timer)) do
      units[#units + 1] = { name = name, contents = timer[name].contents, enabled = timer[name].enabled }
    end
  end
  if opts.host_key then
    files[#files + 1] = { path = "/etc/ssh/ssh_host_ed25519_key", mode = coreos.mode("0600"),
                          contents = { inline = opts.host_key.private } }
    files[#files + 1] = { path = "/etc/ssh/ssh_host_ed25519_key.pub", mode = coreos.mode("0644"),
                          contents = { inline = opts.host_key.public .. "\n" } }
  end
  if opts.hostname then
    files[#files + 1] = { path = "/etc/hostname", mode = coreos.mode("0644"), contents = { inline = opts.hostname .. "\n" } }
  end
  if opts.sysctl then
    local lines = {}
    for _, k in ipairs(sorted_keys(opts.sysctl)) do lines[#lines + 1] = k .. " = " .. tostring(opts.sysctl[k]) end
    files[#files + 1] = { path = "/etc/sysctl.d/90-labrun.conf", mode = coreos.mode("0644"),
                          contents = { inline = table.concat(lines, "\n") .. "\n" } }
  end
  if opts.hosts and next(opts.hosts) then
    local lines = {}
    for _, name in ipairs(sorted_keys(opts.hosts)) do lines[#lines + 1] = opts.hosts[name] .. " " .. name end
    files[#files + 1] = { path = "/etc/hosts", append = { { inline = table.concat(lines, "\n") .. "\n" } } }
  end
  for _, path in ipairs(sorted_keys(opts.files)) do
    local f = opts.files[path]
    if type(f) == "string" then f = { contents = f } end
    files[#files + 1] = { path = path, mode = coreos.mode(f.mode or "0644"), contents = { inline = f.contents } }
  end
  for _, name in ipairs(sorted_keys(opts.units)) do
    local u = opts.units[name]
    if type(u) == "string" then u = { contents = u, enabled = true } end
    units[#units + 1] = { name = name, contents = u.contents, enabled = u.enabled }
  end
  local config = { variant = "fcos", version = "1.6.0", storage = { files = files }, systemd = { units = units } }
  if opts.ssh_keys then
    config.passwd = { users = { { name = "core", ssh_authorized_keys = opts.ssh_keys } } }
  end
  return config
end

--- Ignition JSON for a node: coreos.fragment(opts) merged with opts.butane
--- (more Butane, as a table), translated in process.
function coreos.config(opts)
  labrun.options("coreos.config", opts, { "butane", table.unpack(FRAGMENT_OPTIONS) })
  local fragment_opts = {}
  for _, k in ipairs(FRAGMENT_OPTIONS) do fragment_opts[k] = opts[k] end
  local config = coreos.fragment(fragment_opts)
  if opts.butane then config = labrun.ignition.merge(config, opts.butane) end
  return labrun.ignition.translate(config)
end

return coreos
