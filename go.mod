module github.com/pacsforge/pacs

go 1.26
