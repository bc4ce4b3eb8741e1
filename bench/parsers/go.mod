module github.com/pacsforge/pacs/bench/parsers

go 1.26.0

require github.com/pacsforge/pacs v0.0.0

replace github.com/pacsforge/pacs => ../..
