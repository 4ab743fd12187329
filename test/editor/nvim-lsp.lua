-- Drives Neovim's built-in LSP client (0.7+) through one editing session of a
-- language server, as a user would: open the file, wait for the diagnostics,
-- pick a quick fix from the code-action menu, edit lines. After each step it
-- records what the client received for the buffer's current version, and the
-- buffer's text, in a JSON file that nvim-e2e.py checks.
--
-- The plan (JSON, path in $PAGEREF_E2E_PLAN):
--   {"server": [argv], "root": dir, "file": path, "out": results path,
--    "steps": [{"do": "open"},
--              {"do": "code_action", "line": L, "character": C, "title": substring},
--              {"do": "set_line", "line": L, "text": text}]}   (lines 0-based)
local plan = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('PAGEREF_E2E_PLAN')), '\n'))
local timeout_ms = (plan.timeout or 300) * 1000
local results = { steps = {} }
local published = {} -- version -> the publishDiagnostics params, as received

local function write_results()
  vim.fn.writefile({ vim.fn.json_encode(results) }, plan.out)
end

local function fail(msg)
  results.error = msg
  write_results()
  vim.cmd('cquit 1')
end

local client_id = vim.lsp.start_client({
  name = 'pageref-e2e',
  cmd = plan.server,
  root_dir = plan.root,
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
      if result.version then
        published[result.version] = result
      end
      return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
  },
})
if not client_id then
  fail('the language server did not start: ' .. table.concat(plan.server, ' '))
end

local bufnr

-- Waits for the diagnostics of the buffer's current version and records them
-- together with what vim.diagnostic made of them and the text.
local function record(step, extra)
  local version
  local ok = vim.wait(timeout_ms, function()
    version = vim.lsp.util.buf_versions[bufnr]
    return version ~= nil and published[version] ~= nil
  end, 20)
  if not ok then
    fail(string.format('step %s: no diagnostics for version %s within %d ms', step.id, tostring(version), timeout_ms))
  end
  local shown = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(shown, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      message = d.message, source = d.source, code = d.code,
      related = d.user_data and d.user_data.lsp and d.user_data.lsp.relatedInformation or vim.NIL,
    })
  end
  -- What the user sees on the diagnostic's line: Neovim's diagnostic float.
  local float = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if type(d.code) == 'string' and d.code:find('^pageref%-') then
      vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
      local fbuf, fwin = vim.diagnostic.open_float(bufnr, { scope = 'cursor' })
      if fbuf then
        vim.list_extend(float, vim.api.nvim_buf_get_lines(fbuf, 0, -1, false))
        vim.api.nvim_win_close(fwin, true)
      end
    end
  end
  local entry = {
    id = step.id,
    float = float,
    version = version,
    published = published[version].diagnostics,
    shown = shown,
    text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n'),
  }
  for k, v in pairs(extra or {}) do
    entry[k] = v
  end
  table.insert(results.steps, entry)
end

local function changed_since(tick)
  return function()
    return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
  end
end

for i, step in ipairs(plan.steps) do
  step.id = step.id or (step['do'] .. '#' .. i)
  if step['do'] == 'open' then
    vim.cmd('edit ' .. vim.fn.fnameescape(plan.file))
    bufnr = vim.api.nvim_get_current_buf()
    vim.bo[bufnr].filetype = 'c'
    vim.lsp.buf_attach_client(bufnr, client_id)
    record(step)
  elseif step['do'] == 'code_action' then
    -- The menu a user sees: pick the entry whose title contains step.title.
    local offered = {}
    vim.ui.select = function(items, opts, on_choice)
      local chosen
      for _, item in ipairs(items) do
        local title = opts.format_item and opts.format_item(item) or item[2].title
        table.insert(offered, title)
        if not chosen and title:find(step.title, 1, true) then
          chosen = item
        end
      end
      on_choice(chosen)
    end
    vim.api.nvim_win_set_cursor(0, { step.line + 1, step.character })
    local tick = vim.api.nvim_buf_get_changedtick(bufnr)
    vim.lsp.buf.code_action()
    if not vim.wait(timeout_ms, changed_since(tick), 20) then
      fail(string.format('step %s: the code action changed nothing (offered: %s)', step.id,
        table.concat(offered, ' | ')))
    end
    record(step, { offered = offered })
  elseif step['do'] == 'set_line' then
    vim.api.nvim_buf_set_lines(bufnr, step.line, step.line + 1, false, { step.text })
    record(step)
  else
    fail('unknown step ' .. tostring(step['do']))
  end
end

write_results()
vim.lsp.stop_client(client_id)
vim.wait(5000, function() return vim.tbl_isempty(vim.lsp.get_active_clients()) end, 20)
vim.cmd('qall!')
