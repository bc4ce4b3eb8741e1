module github.com/pacsforge/pacs/bench/parsers

go 1.26.0

require github.com/pacsforge/pacs v0.0.0

require golang.org/x/text v0.44.0 // indirect

replace github.com/pacsforge/pacs => ../..
