-- busted output handler: the usual terminal output, then one plain line
-- "N passed, N failed, N skipped" that CI and spec/run.sh read.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.utfTerminal")(options)
  busted.subscribe({ "suite", "end" }, function()
    io.write(string.format("\n%d passed, %d failed, %d skipped\n", #handler.successes,
      #handler.failures + #handler.errors, #handler.pendings))
    io.flush()
    return nil, true
  end)
  return handler
end
