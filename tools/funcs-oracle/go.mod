module confdrs/confdcoreoracle

go 1.19
