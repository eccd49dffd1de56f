module confdrs/gooracle

go 1.19
