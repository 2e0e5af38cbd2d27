// Command cadvisor serves cAdvisor's container metrics for Prometheus on one address.
//
// cAdvisor's own command (module github.com/google/cadvisor/cmd) is not on the Go module proxy,
// and Debian bookworm does not package cAdvisor; its library (module github.com/google/cadvisor)
// is served. This is the part of cAdvisor's command that Prometheus needs: the container manager
// (cgroups of systemd services and of podman containers) and the /metrics handler, nothing else.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/cadvisor/cache/memory"
	"github.com/google/cadvisor/container"
	_ "github.com/google/cadvisor/container/podman/install"
	_ "github.com/google/cadvisor/container/systemd/install"
	v2 "github.com/google/cadvisor/info/v2"
	"github.com/google/cadvisor/manager"
	"github.com/google/cadvisor/metrics"
	"github.com/google/cadvisor/utils/sysfs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/clock"
)

// The metric families a dashboard of hosts and containers uses: CPU, memory, disk I/O, network.
var includedMetrics = container.MetricSet{
	container.CpuUsageMetrics:     struct{}{},
	container.MemoryUsageMetrics:  struct{}{},
	container.DiskIOMetrics:       struct{}{},
	container.NetworkUsageMetrics: struct{}{},
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address:port to serve /metrics on")
	housekeeping := flag.Duration("housekeeping-interval", 10*time.Second, "how often container statistics are collected")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("cadvisor: ")

	allowDynamic := true
	cache := memory.New(2*time.Minute, nil)
	containers, err := manager.New(cache, sysfs.NewRealSysFs(),
		manager.HousekeepingConfig{Interval: housekeeping, AllowDynamic: &allowDynamic},
		// Every cgroup under "/" (systemd services, containers); no perf events, no resctrl.
		includedMetrics, http.DefaultClient, []string{"/"}, nil, "", 0)
	if err != nil {
		log.Fatalf("creating the container manager: %v", err)
	}
	if err := containers.Start(); err != nil {
		log.Fatalf("starting the container manager: %v", err)
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		metrics.NewPrometheusCollector(containers, metrics.DefaultContainerLabels, includedMetrics,
			clock.RealClock{}, v2.RequestOptions{IdType: v2.TypeName, Count: 1, Recursive: true}),
		metrics.NewPrometheusMachineCollector(containers, includedMetrics),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorLog: log.Default()}))
	server := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = containers.Stop()
		_ = server.Close()
	}()
	log.Printf("serving /metrics on %s", *listen)
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatalf("serving on %s: %v", *listen, err)
	}
}
