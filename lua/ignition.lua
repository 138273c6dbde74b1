---@meta
-- LuaLS definitions of labrun's host API: Ignition configs and templates.
-- Nothing here runs; labrun provides these functions to lab scripts.

---@class labrun
labrun = labrun or {}

---Options of a Butane translation.
---@class labrun.ignition.Options
---@field files_dir? string Folder that `local:` contents, `contents_local`, `ssh_authorized_keys_local` and `trees` are read from, relative to the lab script's folder. Without it those are errors; paths may not climb out of it.
---@field strict? boolean Warnings (unused keys, modes that look decimal, enabled units without `[Install]`...) are errors. Default `true`.

---Options of `labrun.ignition.butane`.
---@class labrun.ignition.ButaneOptions: labrun.ignition.Options
---@field name? string Name of the source, shown before error messages (e.g. `"gateway.bu"`).

---A Butane config as a Lua table, in Butane's shape (`variant`, `version`, `storage`, `systemd`, `passwd`...).
---Modes are numbers (`420`, or `tonumber("0644", 8)`), never strings; an empty table stands for an empty list or map.
---@alias labrun.ignition.Butane table<string, any>

---Butane to Ignition, in process, from every stable Fedora CoreOS Butane spec (1.0.0-1.7.0) to Ignition 3.0.0-3.6.0.
---@class labrun.ignition
labrun.ignition = {}

---Translates Butane YAML into an Ignition config (compact JSON text).
---Errors name the JSON path and the line and column in the YAML, e.g.
---`error at $.storage.files.0.mode, line 6 col 13: illegal file mode`.
---`labrun render` writes `yaml` next to the result as the node's `config.bu`.
---@param yaml string Butane YAML, e.g. from `labrun.file("node.bu")` or `labrun.template(...)`.
---@param opts? labrun.ignition.ButaneOptions
---@return string ignition Ignition JSON, the same bytes for the same input.
function labrun.ignition.butane(yaml, opts) end

---Translates a Butane config given as a Lua table into an Ignition config (compact JSON text).
---Errors name the JSON path in the table. `labrun render` writes the table as YAML next to the result.
---@param config labrun.ignition.Butane
---@param opts? labrun.ignition.Options
---@return string ignition Ignition JSON, the same bytes for the same input.
function labrun.ignition.translate(config, opts) end

---Composes Butane fragments (tables), left to right, before translation: a base every node gets,
---then role-specific parts. Maps merge key by key, a scalar replaces; entries of `files`,
---`directories`, `links` (by `path`), `units`, `dropins`, `users`, `groups` (by `name`),
---`disks`, `filesystems` (by `device`) and `partitions` (by `number`) merge with the entry of the
---same identity or are appended; a file's `contents` is replaced whole; other lists are concatenated.
---@param ... labrun.ignition.Butane
---@return labrun.ignition.Butane merged
function labrun.ignition.merge(...) end

---Validates an Ignition 3.3.0, 3.4.0 or 3.5.0 config (syntax, structure and Ignition's own rules).
---Raises an error naming the JSON path (and, for bad JSON, the line and column).
---@param json string Ignition JSON.
---@return true
function labrun.ignition.validate(json) end

---Substitutes `${name}` in `text` with `vars[name]` (Terraform's `templatefile`); `$${` gives a literal `${`.
---A name missing from `vars` is an error naming it.
---@param text string
---@param vars table<string, string|number|boolean>
---@return string
function labrun.template(text, vars) end

---Indents every line of `text` but the first by `n` spaces (Terraform's `indent`), to put a
---multi-line value inside YAML: `labrun.indent(8, pem)`. Empty lines stay empty.
---@param n integer
---@param text string
---@return string
function labrun.indent(n, text) end

---Reads a file, relative to the lab script's folder.
---@param path string
---@return string contents
function labrun.file(path) end
