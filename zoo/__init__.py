"""The RNN model zoo: vanilla RNN layers with their own backpropagation through time, tasks on real
data, MLflow tracking. Importing it changes nothing process-wide (no environment variable, no
matplotlib backend, no file descriptor); the zoo's programs do that in zoo.program."""
