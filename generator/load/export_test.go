package load

// ParseFile is parseFile, for the tests of package load_test.
var ParseFile = parseFile
