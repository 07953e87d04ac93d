// Command kube-controller-manager is the upstream controller manager. The local
// control plane runs a few of its controllers so that namespaces finish deleting,
// service accounts get their tokens and Deployments report their status, as on a
// real cluster.
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
