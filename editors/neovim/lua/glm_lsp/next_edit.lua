-- Next-edit suggestions: after an idle pause the server predicts the edit you will make next,
-- anywhere in the lines around the cursor (textDocument/copilotInlineEdit). It shows as
-- extmarks: the text it replaces highlighted, the new lines as virtual lines below. One key
-- (default <Tab>) jumps to it when the cursor is elsewhere and applies it when the cursor is
-- on it; typing on, <Esc> or leaving the buffer dismisses it.
local M = {}

local METHOD = "textDocument/copilotInlineEdit"
M.ns = vim.api.nvim_create_namespace("glm_lsp_next_edit")

---@type table<integer, { edit: table, client_id: integer, esc_mapped: boolean }>
local pending = {}
---@type table<integer, uv.uv_timer_t>
local timers = {}

vim.api.nvim_set_hl(0, "GlmNextEditDelete", { default = true, link = "DiffDelete" })
vim.api.nvim_set_hl(0, "GlmNextEditAdd", { default = true, link = "DiffAdd" })

--- The pending suggestion of a buffer (its LSP edit), or nil.
---@param bufnr? integer
function M.get(bufnr)
  local entry = pending[bufnr or vim.api.nvim_get_current_buf()]
  return entry and entry.edit or nil
end

--- Remove the suggestion of a buffer (the buffer's text is not touched).
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local entry = pending[bufnr]
  pending[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
    if entry and entry.esc_mapped then
      pcall(vim.keymap.del, "n", "<Esc>", { buffer = bufnr })
    end
  end
end

--- <Esc> in normal mode dismisses the suggestion; mapped only while one shows, so your own
--- <Esc> mapping works the rest of the time.
local function map_escape(bufnr)
  if vim.fn.maparg("<Esc>", "n", false, true).buffer == 1 then
    return false -- a buffer-local <Esc> of yours: left alone
  end
  vim.keymap.set("n", "<Esc>", function()
    M.dismiss(bufnr)
  end, { buffer = bufnr, desc = "GLM: dismiss the next edit" })
  return true
end

local function byte_col(bufnr, row, character)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local ok, col = pcall(vim.str_byteindex, line, "utf-16", character, false)
  return ok and col or #line
end

local function show(bufnr, edit)
  M.dismiss(bufnr)
  local first, last = edit.range.start.line, edit.range["end"].line
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  if first >= line_count then
    return false
  end
  last = math.min(last, line_count - 1)
  local start_col = byte_col(bufnr, first, edit.range.start.character)
  local end_col = byte_col(bufnr, last, edit.range["end"].character)
  local old = vim.api.nvim_buf_get_lines(bufnr, first, last + 1, false)
  -- The lines as they will read once the edit is applied.
  local new_text = old[1]:sub(1, start_col) .. edit.text .. old[#old]:sub(end_col + 1)
  local new_lines = vim.split(new_text, "\n", { plain = true })
  if end_col > start_col or last > first then
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, start_col, {
      end_row = last,
      end_col = end_col,
      hl_group = "GlmNextEditDelete",
    })
  end
  local virt_lines = {}
  for _, line in ipairs(new_lines) do
    table.insert(virt_lines, { { line, "GlmNextEditAdd" } })
  end
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, last, 0, {
    virt_lines = virt_lines,
    sign_text = "»",
    sign_hl_group = "GlmNextEditAdd",
  })
  return true
end

--- Whether the server offers next edits (it says so in initialize's experimental section).
---@param client vim.lsp.Client
function M.offered(client)
  local experimental = client.server_capabilities and client.server_capabilities.experimental
  return type(experimental) == "table" and experimental.nextEditSuggestions == true
end

--- Ask the server for the next edit at the cursor (what the idle timer does).
---@param bufnr? integer
function M.request(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if bufnr ~= vim.api.nvim_get_current_buf() then
    return
  end
  local client = require("glm_lsp").client(bufnr)
  if not client or not M.offered(client) then
    return
  end
  local version = vim.lsp.util.buf_versions[bufnr]
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.textDocument.version = version
  params.context = { triggerKind = 2 } -- automatic
  client:request(METHOD, params, function(err, result)
    if err or not result or not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    local edit = (result.edits or {})[1]
    -- A reply for text that changed since (or a buffer left meanwhile) is not shown.
    if not edit or vim.lsp.util.buf_versions[bufnr] ~= version or vim.api.nvim_get_current_buf() ~= bufnr then
      return
    end
    if show(bufnr, edit) then
      pending[bufnr] = { edit = edit, client_id = client.id, esc_mapped = map_escape(bufnr) }
      client:notify("textDocument/didShowInlineEdit", { item = { command = edit.command } })
    end
  end, bufnr)
end

--- The key: jump to the suggestion when the cursor is elsewhere, apply it when the cursor
--- is on it. False when there is none (the key then does what it always does).
---@param bufnr? integer
---@return boolean
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local entry = pending[bufnr]
  if not entry then
    return false
  end
  local edit = entry.edit
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local first, last = edit.range.start.line, edit.range["end"].line
  vim.schedule(function() -- not inside an <expr> mapping: it moves the cursor, changes text
    if row < first or row > last then
      local col = byte_col(bufnr, first, edit.range.start.character)
      pcall(vim.api.nvim_win_set_cursor, 0, { first + 1, col })
      return
    end
    M.dismiss(bufnr)
    local client = vim.lsp.get_client_by_id(entry.client_id)
    vim.lsp.util.apply_text_edits(
      { { range = edit.range, newText = edit.text } },
      bufnr,
      client and client.offset_encoding or "utf-16"
    )
    M.dismiss(bufnr) -- the change just made must not show a stale suggestion
    if client and edit.command then
      client:request("workspace/executeCommand", {
        command = edit.command.command,
        arguments = edit.command.arguments,
      }, function() end, bufnr)
    end
  end)
  return true
end

--- Typing on: the suggestion goes, and a new one is asked for after the idle pause.
local function on_text_changed(bufnr, idle_ms)
  M.dismiss(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = assert(vim.uv.new_timer())
    timers[bufnr] = timer
  end
  timer:stop()
  timer:start(idle_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(bufnr) then
      M.request(bufnr)
    end
  end))
end

--- Turn next edits on in a buffer the glm_lsp client serves.
---@param bufnr integer
---@param opts { idle_ms: integer, key: string|false, inline_accept: fun(): boolean }
function M.attach(bufnr, opts)
  local group = vim.api.nvim_create_augroup("glm_lsp_next_edit_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      on_text_changed(bufnr, opts.idle_ms)
    end,
  })
  vim.api.nvim_create_autocmd({ "BufLeave", "InsertLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.dismiss(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      pending[bufnr] = nil
      if timers[bufnr] then
        timers[bufnr]:close()
        timers[bufnr] = nil
      end
    end,
  })
  local key = opts.key
  if key then
    vim.keymap.set({ "n", "i" }, key, function()
      if M.accept(bufnr) or opts.inline_accept() then
        return ""
      end
      return key
    end, { buffer = bufnr, expr = true, desc = "GLM: jump to / apply the next edit" })
  end
end

return M
