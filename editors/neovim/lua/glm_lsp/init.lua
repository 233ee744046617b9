-- glm-lsp for Neovim 0.11+: registers the server with vim.lsp.config / vim.lsp.enable,
-- turns on completion (inline on 0.12+, completion items on 0.11), shows progress and
-- adds the :Glm* commands. Everything else (code actions, edits) is plain LSP.
local M = {}

local NAME = "glm_lsp"
local EXECUTE = "workspace/executeCommand"
local REQUEST_CANCELLED = -32800

---@class glm_lsp.Options
M.defaults = {
  -- How to start the server; the key comes from the environment (BIGMODEL_API_KEY).
  -- nil: `glm-lsp` on PATH, else the checkout's .venv/bin/glm-lsp (the README's install).
  cmd = nil,
  -- Extra environment for the server, e.g. { GLM_LSP_BASE_URL = "..." }. Not for the key
  -- if your config is in a dotfiles repository.
  cmd_env = nil,
  -- nil: every filetype. Or a list such as { "python", "lua", "go" }.
  filetypes = nil,
  -- The workspace root is the nearest directory holding one of these, else the cwd.
  root_markers = { ".git", "pyproject.toml", "setup.py", "package.json", "Cargo.toml", "go.mod" },
  -- The `glm` settings section (camelCase keys, as in the README), e.g.
  -- { model = "glm-5.1", completion = { debounceMs = 200 }, actions = { thinking = false } }
  -- The agent's check (run in a scratch copy, after asking you once):
  -- { agent = { checkCommand = { "python", "-m", "pytest", "-q" }, checkTimeout = 120 } }
  settings = {},
  -- Completion: inline (ghost text) on 0.12+, completion items on 0.11.
  completion = true,
  -- 0.11 only: ask for completion items as you type the server's trigger characters.
  autotrigger = true,
  keys = {
    -- Insert mode: accept the inline suggestion (0.12+); falls back to the key itself.
    accept_inline = "<Tab>",
    -- Insert mode: ask GLM for a completion now.
    complete = "<C-Space>",
    -- Insert mode, completion menu open (0.11): insert the selected item, else the first.
    -- Nothing is inserted before you accept, whatever 'completeopt' says.
    accept = "<C-y>",
    -- Normal and insert mode, while a next edit shows: jump to it, then apply it.
    next_edit = "<Tab>",
    -- Visual mode: code actions on the selection, leaving Visual mode first (Neovim's own
    -- `gra` stays in it, and with 'showmode' then holds every reply for about 4 s). Only
    -- replaces Neovim's default mapping, never one of yours.
    code_action = "gra",
  },
  -- Next-edit suggestions: after `idle_ms` without typing, GLM predicts your next edit in
  -- the lines around the cursor; typing on, <Esc> or leaving the buffer dismisses it.
  next_edit = { enabled = true, idle_ms = 500 },
  -- Echo progress messages ("GLM: Refactor – 120 tokens") as they arrive.
  echo_progress = true,
}

M.options = vim.deepcopy(M.defaults)

-- Running operations by progress token, newest last, for the statusline.
local progress = {} ---@type table<string|integer, { title: string, message: string }>
local progress_order = {} ---@type (string|integer)[]

local function progress_text(token)
  local item = progress[token]
  return item and ("%s – %s"):format(item.title, item.message) or ""
end

local width_of = vim.fn.strdisplaywidth

--- ``text`` cut to ``width`` display cells, "…" marking the cut.
---@param text string
---@param width integer
---@return string
function M.fit(text, width)
  if width_of(text) <= width then
    return text
  end
  local kept = vim.fn.strcharpart(text, 0, math.max(width - 1, 0))
  while kept ~= "" and width_of(kept) > width - 1 do
    kept = vim.fn.strcharpart(kept, 0, vim.fn.strchars(kept) - 1)
  end
  return kept .. "…"
end

--- The room a message has before Neovim stops at "Press ENTER or type command to continue"
--- (the last line minus the ruler and showcmd columns).
local function echo_room()
  return math.max(vim.v.echospace, 20)
end

--- "title – message" within ``width``: the title gives way first, so the turn and the
--- tokens stay in view.
local function progress_line(title, message, width)
  local tail = " – " .. message
  local title_room = math.max(width - width_of(tail), math.min(width, 16))
  return M.fit(M.fit(title, title_room) .. tail, width)
end

--- ``text`` as lines of at most ``width`` cells, broken between words.
local function wrap(text, width)
  local lines = {}
  for _, paragraph in ipairs(vim.split(text, "\n", { plain = true })) do
    local line = ""
    for word in paragraph:gmatch("%S+") do
      if line == "" then
        line = M.fit(word, width)
      elseif width_of(line .. " " .. word) <= width then
        line = line .. " " .. word
      else
        table.insert(lines, line)
        line = M.fit(word, width)
      end
    end
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  return lines
end

local builtin_notify = vim.notify
local HIGHLIGHTS = { [vim.log.levels.ERROR] = "ErrorMsg", [vim.log.levels.WARN] = "WarningMsg" }

--- Show a message without ever raising the hit-enter prompt: one that is wider than the echo
--- area goes to :messages whole (line by line) and shows its start on screen. A notifier the
--- user installed (nvim-notify, noice, …) gets the message as it is.
---@param text string
---@param level? integer
function M.say(text, level)
  level = level or vim.log.levels.INFO
  if vim.notify ~= builtin_notify then
    return vim.notify(text, level)
  end
  local hl = HIGHLIGHTS[level]
  local room = echo_room()
  if width_of(text) <= room and not text:find("\n") then
    return vim.api.nvim_echo({ { text, hl } }, true, {})
  end
  for _, line in ipairs(wrap(text, room)) do
    vim.api.nvim_echo({ { line, hl } }, true, {})
  end
  local hint = " (:messages)"
  vim.api.nvim_echo({ { M.fit(text:gsub("\n", " "), room - width_of(hint)) .. hint, hl } }, false, {})
end

local function notify(message, level)
  M.say("GLM: " .. message, level)
end

local MESSAGE_LEVELS = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
}

--- window/showMessage, shown with :help M.say (the server's messages start with "GLM").
local function on_show_message(_, params)
  if params and params.message then
    M.say(params.message, MESSAGE_LEVELS[params.type] or vim.log.levels.INFO)
  end
  return vim.NIL
end

--- The running glm-lsp client for a buffer (or any, when none is attached to it).
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = NAME, bufnr = bufnr or 0 })
  if #clients == 0 and bufnr == nil then
    clients = vim.lsp.get_clients({ name = NAME })
  end
  return clients[1]
end

--- LSP position of a byte column on a 0-based row.
local function lsp_position(bufnr, row, col, encoding)
  return { line = row, character = vim.lsp.util.character_offset(bufnr, row, col, encoding) }
end

local function line_text(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

--- The range a :Glm* command works on: the visual selection when the command was given a
--- range ('<,'>), else the cursor (an empty range; the server takes the enclosing block).
---@param bufnr integer
---@param cmd_opts { range: integer, line1: integer, line2: integer }
---@param encoding string
---@return lsp.Range
function M.command_range(bufnr, cmd_opts, encoding)
  if cmd_opts.range == 0 then
    local row, col = unpack(vim.api.nvim_win_get_cursor(0))
    local here = lsp_position(bufnr, row - 1, col, encoding)
    return { start = here, ["end"] = here }
  end
  local first = vim.api.nvim_buf_get_mark(bufnr, "<")
  local last = vim.api.nvim_buf_get_mark(bufnr, ">")
  local charwise = vim.fn.visualmode() == "v" and first[1] == cmd_opts.line1 and last[1] == cmd_opts.line2
  if charwise then
    local text = line_text(bufnr, last[1] - 1)
    local end_col = #text
    if last[2] < #text then -- include the whole (maybe multi-byte) last character
      end_col = last[2] + 1 + vim.str_utf_end(text, last[2] + 1)
    end
    return {
      start = lsp_position(bufnr, first[1] - 1, first[2], encoding),
      ["end"] = lsp_position(bufnr, last[1] - 1, end_col, encoding),
    }
  end
  local last_row = cmd_opts.line2 - 1
  return {
    start = { line = cmd_opts.line1 - 1, character = 0 },
    ["end"] = lsp_position(bufnr, last_row, #line_text(bufnr, last_row), encoding),
  }
end

--- Run one of the server's commands with its single object argument.
---@param command string e.g. "glm.refactor"
---@param argument table
---@param bufnr? integer
function M.execute(command, argument, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify("glm-lsp is not running for this buffer (see :checkhealth glm_lsp)", vim.log.levels.ERROR)
    return
  end
  local params = { command = command, arguments = { argument } }
  client:request(EXECUTE, params, function(err)
    if err and err.code ~= REQUEST_CANCELLED then
      notify(command .. " failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
  end, bufnr)
end

--- Cancel every GLM command still running (code actions and :Glm* commands alike).
function M.cancel()
  local cancelled = 0
  for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
    for id, request in pairs(client.requests) do
      if request.type == "pending" and request.method == EXECUTE then
        client:cancel_request(id)
        cancelled = cancelled + 1
      end
    end
    for token in pairs(progress) do
      client:notify("window/workDoneProgress/cancel", { token = token })
    end
  end
  notify(cancelled > 0 and "cancelled" or "nothing to cancel")
end

--- Progress of the newest running GLM operation, for a statusline:
---   vim.o.statusline = "%f %m%=%{v:lua.require'glm_lsp'.statusline()}"
---@return string
function M.statusline()
  return progress_text(progress_order[#progress_order])
end

local function on_progress(event)
  local client = vim.lsp.get_client_by_id(event.data.client_id)
  local params = event.data.params or {}
  local value = params.value
  if not client or client.name ~= NAME or type(value) ~= "table" then
    return
  end
  local token = params.token
  local text
  if value.kind == "begin" or not progress[token] then
    local title = value.title or "working"
    if not vim.startswith(title, "GLM") then
      title = "GLM: " .. title
    end
    progress[token] = { title = title, message = value.message or "…" }
    table.insert(progress_order, token)
  end
  if value.kind == "report" then
    progress[token].message = value.message or progress[token].message
  end
  if value.kind == "end" then
    text = progress_line(progress[token].title, value.message or "done", echo_room())
    progress[token] = nil
    progress_order = vim.tbl_filter(function(t)
      return t ~= token
    end, progress_order)
  end
  if M.options.echo_progress then
    -- Wider than the echo area, every update would wait at "Press ENTER".
    local item = progress[token]
    text = text or progress_line(item.title, item.message, echo_room())
    vim.api.nvim_echo({ { text } }, false, {})
  end
  vim.cmd.redrawstatus()
end

--- 'completeopt' for a buffer where suggestions pop up as you type: never select or insert an
--- item by itself ("longest" would insert the common text of all items, i.e. the suggestion).
--- Buffer-local, so the rest of your setup keeps its own value.
---@param bufnr integer
function M.guard_completeopt(bufnr)
  local value = vim.bo[bufnr].completeopt
  if value == "" then
    value = vim.go.completeopt
  end
  local flags = vim.tbl_filter(function(flag)
    return flag ~= "longest"
  end, vim.split(value, ",", { trimempty = true }))
  for _, flag in ipairs({ "menuone", "noselect" }) do
    if not vim.list_contains(flags, flag) then
      table.insert(flags, flag)
    end
  end
  local guarded = table.concat(flags, ",")
  if guarded ~= vim.bo[bufnr].completeopt then
    vim.bo[bufnr].completeopt = guarded
  end
end

--- The accept key: with the menu open, take the selected item, or the first one when none is
--- selected (the menu opens with nothing selected); otherwise the key does what it always does.
local function accept_key(key)
  return function()
    if vim.fn.pumvisible() == 0 then
      return key
    end
    if vim.fn.complete_info({ "selected" }).selected == -1 then
      return "<C-n><C-y>"
    end
    return "<C-y>"
  end
end

local function enable_completion(client, bufnr)
  local opts = M.options
  local inline = vim.lsp.inline_completion
  if inline and client:supports_method("textDocument/inlineCompletion") then
    pcall(inline.enable, true, { bufnr = bufnr, client_id = client.id })
    if opts.keys.accept_inline then
      vim.keymap.set("i", opts.keys.accept_inline, function()
        if not inline.get() then
          return opts.keys.accept_inline
        end
      end, { buffer = bufnr, expr = true, desc = "GLM: accept the inline suggestion" })
    end
    return
  end
  if client:supports_method("textDocument/completion") then
    M.guard_completeopt(bufnr)
    -- Again on each InsertEnter: a later :set or ftplugin must not bring insertion back.
    vim.api.nvim_create_autocmd("InsertEnter", {
      group = vim.api.nvim_create_augroup("glm_lsp_completeopt_" .. bufnr, { clear = true }),
      buffer = bufnr,
      callback = function()
        M.guard_completeopt(bufnr)
      end,
    })
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = opts.autotrigger })
    if opts.keys.accept then
      vim.keymap.set("i", opts.keys.accept, accept_key(opts.keys.accept), {
        buffer = bufnr,
        expr = true,
        desc = "GLM: accept the completion (the first one when none is selected)",
      })
    end
    if opts.keys.complete then
      vim.keymap.set("i", opts.keys.complete, function()
        vim.lsp.completion.get()
      end, { buffer = bufnr, desc = "GLM: complete" })
    end
  end
end

-- The buffers the last GLM edit changed, with their changedtick right after it, so that
-- :GlmSave writes them and :GlmUndo takes the edit back in each (Neovim's undo is per buffer).
M.last_edit = nil ---@type { label: string, buffers: table<integer, integer> }?

local function edited_uris(edit)
  local uris = {}
  for _, change in ipairs(edit.documentChanges or {}) do
    local uri = change.textDocument and change.textDocument.uri or change.newUri or change.uri
    if uri and change.kind ~= "delete" then
      uris[uri] = true
    end
  end
  for uri in pairs(edit.changes or {}) do
    uris[uri] = true
  end
  return vim.tbl_keys(uris)
end

--- The files the edit creates, by URI.
local function created_uris(edit)
  local uris = {}
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == "create" and change.uri then
      uris[change.uri] = true
    end
  end
  return uris
end

--- A new file's text ends with a newline; Neovim keeps that as an empty last line, which
--- 'eol' would write as an extra blank line. Drop it, in the same undo step as the edit.
local function drop_final_empty_line(bufnr)
  local count = vim.api.nvim_buf_line_count(bufnr)
  if count > 1 and line_text(bufnr, count - 1) == "" then
    vim.api.nvim_buf_call(bufnr, function()
      pcall(vim.cmd.undojoin)
      vim.api.nvim_buf_set_lines(bufnr, count - 1, count, false, {})
    end)
  end
end

local function on_apply_edit(err, params, ctx)
  -- Neovim's handler prints "Workspace edit <label>", and the label holds the whole
  -- instruction: wider than the screen, it stops at "Press ENTER". The progress's end and the
  -- server's message say what happened.
  local quiet = params and vim.tbl_extend("force", {}, params) or params
  if quiet then
    quiet.label = nil
  end
  local result = vim.lsp.handlers["workspace/applyEdit"](err, quiet, ctx)
  if type(result) == "table" and result.applied and params and params.edit then
    local buffers, created = {}, {}
    local new_files = created_uris(params.edit)
    for _, uri in ipairs(edited_uris(params.edit)) do
      local bufnr = vim.uri_to_bufnr(uri)
      if vim.api.nvim_buf_is_loaded(bufnr) then
        if new_files[uri] then
          drop_final_empty_line(bufnr)
          table.insert(created, vim.fn.fnamemodify(vim.uri_to_fname(uri), ":."))
        end
        buffers[bufnr] = vim.api.nvim_buf_get_changedtick(bufnr)
      end
    end
    M.last_edit = { label = params.label or "GLM edit", buffers = buffers }
    local count = vim.tbl_count(buffers)
    if #created > 0 then
      -- A new file's buffer is hidden and its file on disk is still empty: say so plainly.
      table.sort(created)
      notify(("new, not saved yet: %s; :GlmSave writes %s"):format(
        table.concat(created, ", "),
        count > 1 and ("all %d changed buffers"):format(count) or "it"
      ))
    elseif count > 1 then
      notify(("%d buffers changed, not saved: :GlmSave writes them, :GlmUndo undoes the edit in each"):format(count))
    end
  end
  return result
end

--- :GlmSave — write every buffer the last GLM edit changed (and nothing else).
function M.save()
  local last = M.last_edit
  if not last then
    return notify("no GLM edit to save")
  end
  local saved = {}
  for bufnr in pairs(last.buffers) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].modified then
      vim.api.nvim_buf_call(bufnr, function()
        vim.cmd("silent update")
      end)
      table.insert(saved, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":."))
    end
  end
  table.sort(saved)
  notify(#saved > 0 and ("saved " .. table.concat(saved, ", ")) or "nothing left to save")
end

--- :GlmUndo — undo the last GLM edit in every buffer it changed, as one step; a buffer you
--- edited since keeps your text (undo it there by hand).
function M.undo()
  local last = M.last_edit
  if not last then
    return notify("no GLM edit to undo")
  end
  local undone, kept = 0, {}
  for bufnr, tick in pairs(last.buffers) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.api.nvim_buf_get_changedtick(bufnr) == tick then
      vim.api.nvim_buf_call(bufnr, function()
        vim.cmd("silent undo")
      end)
      undone = undone + 1
    else
      table.insert(kept, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":."))
    end
  end
  M.last_edit = nil
  local text = ("undid %q in %d buffer(s)"):format(last.label, undone)
  if #kept > 0 then
    text = text .. "; changed since, left alone: " .. table.concat(kept, ", ")
  end
  notify(text, #kept > 0 and vim.log.levels.WARN or nil)
end

--- The Visual selection as vim.lsp.buf.code_action's ``range`` (as Neovim computes it).
local function selection_range(bufnr, mode)
  local start, finish = vim.fn.getpos("v"), vim.fn.getpos(".")
  local start_row, start_col, end_row, end_col = start[2], start[3], finish[2], finish[3]
  if start_row == end_row and end_col < start_col then
    start_col, end_col = end_col, start_col
  elseif end_row < start_row then
    start_row, end_row = end_row, start_row
    start_col, end_col = end_col, start_col
  end
  if mode == "V" then
    start_col, end_col = 1, #line_text(bufnr, end_row - 1)
  end
  return { start = { start_row, start_col - 1 }, ["end"] = { end_row, end_col - 1 } }
end

--- Code actions on the selection from Normal mode: while Visual mode stays on, Neovim waits
--- before its "-- VISUAL --" message overwrites the menu's, and nothing (progress, the edit)
--- is handled meanwhile.
local function code_action_on_selection()
  local mode = vim.api.nvim_get_mode().mode
  if mode ~= "v" and mode ~= "V" then
    return vim.lsp.buf.code_action()
  end
  local range = selection_range(vim.api.nvim_get_current_buf(), mode)
  vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "nx", false)
  vim.lsp.buf.code_action({ range = range })
end

local function map_code_action(bufnr)
  local key = M.options.keys.code_action
  if not key then
    return
  end
  local current = vim.fn.maparg(key, "x", false, true)
  local default = vim.tbl_isempty(current) or current.desc == "vim.lsp.buf.code_action()"
  if default or current.desc == "GLM: code actions on the selection" then
    vim.keymap.set("x", key, code_action_on_selection, {
      buffer = bufnr,
      desc = "GLM: code actions on the selection",
    })
  end
end

local function on_attach(event)
  local client = vim.lsp.get_client_by_id(event.data.client_id)
  if not client or client.name ~= NAME then
    return
  end
  map_code_action(event.buf)
  if M.options.completion then
    enable_completion(client, event.buf)
  end
  local next_edit = require("glm_lsp.next_edit")
  if M.options.next_edit.enabled and next_edit.offered(client) then
    next_edit.attach(event.buf, {
      idle_ms = M.options.next_edit.idle_ms,
      key = M.options.keys.next_edit,
      inline_accept = function()
        local inline = vim.lsp.inline_completion
        return inline ~= nil and inline.get() == true
      end,
    })
  end
end

--- A command that works on the selection or the cursor, with an optional instruction.
local function range_command(server_command, with_instruction)
  return function(cmd_opts)
    local bufnr = vim.api.nvim_get_current_buf()
    local client = M.client(bufnr)
    if not client then
      return M.execute(server_command, {}, bufnr) -- says why nothing happens
    end
    local argument = {
      uri = vim.uri_from_bufnr(bufnr),
      range = M.command_range(bufnr, cmd_opts, client.offset_encoding),
    }
    if with_instruction and cmd_opts.args ~= "" then
      argument.instruction = cmd_opts.args
    end
    M.execute(server_command, argument, bufnr)
  end
end

local function agent_command(cmd_opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  local function run(instruction)
    if not instruction or vim.trim(instruction) == "" then
      return
    end
    local argument = { instruction = vim.trim(instruction) }
    if client and vim.api.nvim_buf_get_name(bufnr) ~= "" then
      argument.uri = vim.uri_from_bufnr(bufnr)
      if cmd_opts.range > 0 then
        argument.range = M.command_range(bufnr, cmd_opts, client.offset_encoding)
      end
    end
    M.execute("glm.agent", argument, bufnr)
  end
  if cmd_opts.args ~= "" then
    run(cmd_opts.args)
  else
    vim.ui.input({ prompt = "GLM agent: " }, run)
  end
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("GlmAgent", agent_command, {
    nargs = "?",
    range = true,
    desc = "GLM: let the agent change the workspace (prompts when no instruction is given)",
  })
  command("GlmExplain", range_command("glm.explain", false), { range = true, desc = "GLM: explain" })
  command("GlmRefactor", range_command("glm.refactor", true), {
    nargs = "?",
    range = true,
    desc = "GLM: refactor the selection, optionally as instructed",
  })
  command("GlmTests", range_command("glm.generateTests", false), {
    range = true,
    desc = "GLM: generate tests for the selection",
  })
  command("GlmFix", range_command("glm.fix", false), { range = true, desc = "GLM: fix diagnostics" })
  command("GlmStatus", function()
    M.execute("glm.status", vim.empty_dict())
  end, { desc = "GLM: usage so far and the quota multiplier now" })
  command("GlmCheck", function()
    M.execute("glm.check", vim.empty_dict())
  end, { desc = "GLM: run glm.agent.checkCommand on the workspace as it is" })
  command("GlmCancel", M.cancel, { desc = "GLM: cancel the running GLM commands" })
  command("GlmSave", M.save, { desc = "GLM: write the buffers the last GLM edit changed" })
  command("GlmUndo", M.undo, { desc = "GLM: undo the last GLM edit in every buffer it changed" })
end

--- The checkout this plugin was loaded from (…/editors/neovim/lua/glm_lsp/init.lua).
local function checkout_dir()
  local here = debug.getinfo(1, "S").source:gsub("^@", "")
  return vim.fn.fnamemodify(here, ":p:h:h:h:h:h")
end

--- Where the README's install puts the server, in the checkout.
function M.checkout_server()
  local bin = vim.fn.has("win32") == 1 and "Scripts/glm-lsp.exe" or "bin/glm-lsp"
  return vim.fs.joinpath(checkout_dir(), ".venv", bin)
end

--- The command that starts the server: ``cmd`` when given, else `glm-lsp` on PATH, else the
--- checkout's .venv. Second value: why none works, in words that say what to do.
---@param cmd? string[]|fun(...): any
---@return (string[]|fun(...): any)?, string?
function M.server_command(cmd)
  if type(cmd) == "function" then
    return cmd
  end
  if cmd and vim.fn.executable(cmd[1]) == 1 then
    return cmd
  end
  if cmd == nil then
    if vim.fn.executable("glm-lsp") == 1 then
      return { "glm-lsp" }
    end
    local local_server = M.checkout_server()
    if vim.fn.executable(local_server) == 1 then
      return { local_server }
    end
  end
  local install = ("cd %s && python3 -m venv .venv && .venv/bin/pip install ."):format(checkout_dir())
  local missing = cmd and ("`%s` is not executable"):format(cmd[1])
    or ("glm-lsp is not on PATH nor at %s"):format(M.checkout_server())
  return nil,
    ("%s. Install it from the checkout (%s) or give its path: "):format(missing, install)
      .. "require('glm_lsp').setup({ cmd = { '/path/to/glm-lsp' } })"
end

local function root_dir(markers)
  return function(bufnr, on_dir)
    on_dir(vim.fs.root(bufnr, markers) or vim.fn.getcwd())
  end
end

--- Configure and enable glm-lsp. Call once from your init.lua.
---@param opts? glm_lsp.Options
function M.setup(opts)
  if vim.fn.has("nvim-0.11") == 0 then
    notify("glm_lsp needs Neovim 0.11 or newer (vim.lsp.config)", vim.log.levels.ERROR)
    return
  end
  opts = opts or {}
  local options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  for _, list in ipairs({ "cmd", "filetypes", "root_markers" }) do
    options[list] = opts[list] or options[list] -- lists replace the default, never merge into it
  end
  M.options = options
  local cmd, problem = M.server_command(options.cmd)
  if not cmd then
    -- Enabled anyway, Neovim would fail on every file and say so only in its lsp.log.
    vim.schedule(function()
      vim.notify("GLM: " .. problem, vim.log.levels.ERROR)
    end)
    create_commands()
    return
  end
  -- An empty table would travel as a JSON list; the server expects an object.
  local glm = next(options.settings) and options.settings or vim.empty_dict()

  vim.lsp.config(NAME, {
    cmd = cmd,
    cmd_env = options.cmd_env,
    filetypes = options.filetypes,
    root_dir = root_dir(options.root_markers),
    init_options = { glm = glm },
    settings = { glm = glm }, -- also the answer to workspace/configuration
    handlers = {
      ["workspace/applyEdit"] = on_apply_edit,
      ["window/showMessage"] = on_show_message,
    },
  })

  local group = vim.api.nvim_create_augroup("glm_lsp", { clear = true })
  vim.api.nvim_create_autocmd("LspAttach", { group = group, callback = on_attach })
  vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
  create_commands()
  vim.lsp.enable(NAME)
end

return M
