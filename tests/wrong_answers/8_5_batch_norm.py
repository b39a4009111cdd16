"""Plausible wrong answers for assignment 8.5. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Normalises with torch's default X.var(...), the unbiased variance (divide by n - 1):
    # invisible on the public example's 1,024 values per channel, off by sqrt(n / (n - 1))
    # for the hidden tests' small batches.
    "q1": '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    axes = [0] + list(range(2, X.dim()))
    shape = [1, -1] + [1] * (X.dim() - 2)
    if training:
        mean = X.mean(dim=axes)
        var = X.var(dim=axes)
        with torch.no_grad():
            moving_mean = (1 - momentum) * moving_mean + momentum * mean
            moving_var = (1 - momentum) * moving_var + momentum * var
    else:
        mean, var = moving_mean, moving_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * X_hat + beta.reshape(shape), moving_mean, moving_var
''',
    # The book's choice: the mode comes from torch.is_grad_enabled(), not self.training.
    # Right whenever training runs with gradients and evaluation without (the public test),
    # wrong in training mode under no_grad and in evaluation mode with gradients on.
    "q2": '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))

    def forward(self, X):
        training = torch.is_grad_enabled()
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, self.momentum, training)
        if training:
            self.moving_mean, self.moving_var = moving_mean.detach(), moving_var.detach()
        return Y
''',
    # Plain LeNet of section 7.6 (no batch norm) trained with the same budget: right output
    # shape and mode, but at lr 0.3 with momentum its sigmoids saturate (accuracy 0.10).
    "q3": '''
from cnnlib.models.lenet import LeNet

torch.manual_seed(0)
bn_net = LeNet()
config = TrainConfig(epochs=3, lr=0.3, momentum=0.9, schedule="cosine",
                     live_plot=False, progress=False)
Trainer(config).fit(bn_net, data)
bn_net.eval()
''',
}
