module example.com/shop

go 1.19

require github.com/acme/orm v1.4.2
