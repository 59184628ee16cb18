module github.com/isola-sandbox/isola/bindings/go

go 1.23
