package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
)

func newLogger(c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func newRunCmd() *cobra.Command {
	var path string
	var drain time.Duration
	cmd := &cobra.Command{
		Use:   "run -c FILE",
		Short: "Run the connector daemon until SIGINT/SIGTERM (or until one-shot sources finish)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			log := newLogger(cfg.Log)
			p, err := pipeline.New(cfg, pipeline.Options{Logger: log, Stdout: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = p.Run(ctx, drain)
			for _, s := range p.Counters().Snapshot() {
				log.Debug("counter", "name", s.Name, "value", s.Value)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	cmd.Flags().DurationVar(&drain, "drain-timeout", 30*time.Second, "how long to flush sinks on shutdown (the rest stays queued)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
