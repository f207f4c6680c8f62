module github.com/get-eventually/go-eventually

go 1.23
