package render

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/model"
)

// mock renders a gomock mock of the read model, in the form mockgen writes,
// into a _test.go file of the projection's package.
func (r *renderer) mock(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n := p.Names
	gomock := model.GomockPackage
	f.Add(doc(fmt.Sprintf("%s is a mock of the %s interface, in the form mockgen writes.", n.Mock, n.ReadModel)))
	f.Type().Id(n.Mock).Struct(
		jen.Id("ctrl").Op("*").Qual(gomock, "Controller"),
		jen.Id("recorder").Op("*").Id(n.MockRecorder),
		jen.Id("isgomock").Struct(),
	)
	f.Line()
	f.Add(doc(fmt.Sprintf("%s is the mock recorder for %s.", n.MockRecorder, n.Mock)))
	f.Type().Id(n.MockRecorder).Struct(jen.Id("mock").Op("*").Id(n.Mock))
	f.Line()
	f.Var().Id("_").Id(n.ReadModel).Op("=").Parens(jen.Op("*").Id(n.Mock)).Parens(jen.Nil())
	f.Line()
	f.Add(doc(fmt.Sprintf("%s creates a new mock instance.", n.NewMock)))
	f.Func().Id(n.NewMock).Params(jen.Id("ctrl").Op("*").Qual(gomock, "Controller")).Op("*").Id(n.Mock).Block(
		jen.Id("mock").Op(":=").Op("&").Id(n.Mock).Values(jen.Dict{jen.Id("ctrl"): jen.Id("ctrl")}),
		jen.Id("mock").Dot("recorder").Op("=").Op("&").Id(n.MockRecorder).Values(jen.Id("mock")),
		jen.Return(jen.Id("mock")),
	)
	f.Line()
	f.Add(doc("EXPECT returns an object that allows the caller to indicate expected use."))
	f.Func().Params(jen.Id("m").Op("*").Id(n.Mock)).Id("EXPECT").Params().Op("*").Id(n.MockRecorder).Block(
		jen.Return(jen.Id("m").Dot("recorder")),
	)
	for _, m := range p.Methods {
		args := []jen.Code{jen.Id("ctx"), jen.Id("meta")}
		anyParams := []jen.Code{jen.Id("ctx"), jen.Id("meta")}
		if m.Args != nil {
			args = append(args, jen.Id(m.Args.Name))
			anyParams = append(anyParams, jen.Id(m.Args.Name))
		}
		for _, prm := range m.Params {
			if m.Args != nil {
				break
			}
			args = append(args, jen.Id(prm.Name))
			anyParams = append(anyParams, jen.Id(prm.Name))
		}
		f.Line()
		f.Add(doc(fmt.Sprintf("%s mocks base method.", m.Name)))
		f.Func().Params(jen.Id("m").Op("*").Id(n.Mock)).Id(m.Name).Params(params(m)...).Error().Block(
			jen.Id("m").Dot("ctrl").Dot("T").Dot("Helper").Call(),
			jen.Id("ret").Op(":=").Id("m").Dot("ctrl").Dot("Call").Call(append([]jen.Code{jen.Id("m"), jen.Lit(m.Name)}, args...)...),
			jen.List(jen.Id("ret0"), jen.Id("_")).Op(":=").Id("ret").Index(jen.Lit(0)).Assert(jen.Error()),
			jen.Return(jen.Id("ret0")),
		)
		f.Line()
		f.Add(doc(fmt.Sprintf("%s indicates an expected call of %s.", m.Name, m.Name)))
		f.Func().Params(jen.Id("mr").Op("*").Id(n.MockRecorder)).Id(m.Name).Params(jen.List(anyParams...).Any()).
			Op("*").Qual(gomock, "Call").Block(
			jen.Id("mr").Dot("mock").Dot("ctrl").Dot("T").Dot("Helper").Call(),
			jen.Return(jen.Id("mr").Dot("mock").Dot("ctrl").Dot("RecordCallWithMethodType").Call(append([]jen.Code{
				jen.Id("mr").Dot("mock"), jen.Lit(m.Name),
				jen.Qual("reflect", "TypeOf").Call(jen.Parens(jen.Op("*").Id(n.Mock)).Parens(jen.Nil()).Dot(m.Name)),
			}, args...)...)),
		)
	}
	return f
}
