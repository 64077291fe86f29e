"""Development tools: the local stack (demo, serve, invoke, load), the benchmark and the contracts' generator.
Beside src/ (what runs in Lambda) and ops/ (what operators run). Never imported by src/."""
