"""Plausible wrong answers for assignment 8.5. Each passes the public tests and is caught by a
hidden one, or by calling a function its question forbids."""

WRONG = {
    "q1": [
        # Normalises with torch's default X.var(...), the unbiased variance (divide by n - 1):
        # invisible on the public example's 1,024 values per channel, off by sqrt(n / (n - 1))
        # for the hidden tests' small batches.
        '''
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
        # Corrects the moving variance with N / (N - 1), the batch size, instead of n / (n - 1),
        # the values per channel: the same for (N, C) inputs (the public moving-average
        # example), wrong as soon as there are positions besides the batch.
        '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    axes = [0] + list(range(2, X.dim()))
    shape = [1, -1] + [1] * (X.dim() - 2)
    if training:
        mean = X.mean(dim=axes)
        var = X.var(dim=axes, correction=0)
        N = X.shape[0]
        with torch.no_grad():
            moving_mean = (1 - momentum) * moving_mean + momentum * mean
            moving_var = (1 - momentum) * moving_var + momentum * var * N / (N - 1)
    else:
        mean, var = moving_mean, moving_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * X_hat + beta.reshape(shape), moving_mean, moving_var
''',
        # Spells out the axes for the three ranks the prompt names, (N, C), (N, C, L) and
        # (N, C, H, W), so an (N, C, D, H, W) input, which "any rank" includes, fails.
        '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    axes = {2: [0], 3: [0, 2], 4: [0, 2, 3]}[X.dim()]
    shape = [1, -1] + [1] * (X.dim() - 2)
    if training:
        mean = X.mean(dim=axes)
        var = X.var(dim=axes, correction=0)
        n = X.numel() // X.shape[1]
        with torch.no_grad():
            moving_mean = (1 - momentum) * moving_mean + momentum * mean
            moving_var = (1 - momentum) * moving_var + momentum * var * n / (n - 1)
    else:
        mean, var = moving_mean, moving_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * X_hat + beta.reshape(shape), moving_mean, moving_var
''',
        # Computes the batch statistics inside the no_grad block meant for the moving
        # averages: every value is right, but no gradient flows through the mean and the
        # variance, so training follows the wrong gradient. Only a gradient check shows it.
        '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    axes = [0] + list(range(2, X.dim()))
    shape = [1, -1] + [1] * (X.dim() - 2)
    if training:
        with torch.no_grad():
            mean = X.mean(dim=axes)
            var = X.var(dim=axes, correction=0)
            n = X.numel() // X.shape[1]
            moving_mean = (1 - momentum) * moving_mean + momentum * mean
            moving_var = (1 - momentum) * moving_var + momentum * var * n / (n - 1)
    else:
        mean, var = moving_mean, moving_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * X_hat + beta.reshape(shape), moving_mean, moving_var
''',
        # Lets PyTorch do it: F.batch_norm updates copies of the moving statistics in place.
        # Right in both modes, but the question asks for batch norm from scratch and forbids
        # torch.nn.functional.batch_norm.
        '''
from torch.nn import functional as F


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    moving_mean, moving_var = moving_mean.clone(), moving_var.clone()
    Y = F.batch_norm(X, moving_mean, moving_var, gamma, beta, training, momentum, eps)
    return Y, moving_mean, moving_var
''',
    ],
    "q2": [
        # The book's choice: the mode comes from torch.is_grad_enabled(), not self.training.
        # Right whenever training runs with gradients and evaluation without (the public
        # test), wrong in training mode under no_grad and in evaluation mode with gradients on.
        '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, X):
        training = torch.is_grad_enabled()
        momentum = 0.0 if self.momentum is None else self.momentum
        if training:
            self.num_batches_tracked += 1
            if self.momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, momentum, training)
        if training:
            self.moving_mean, self.moving_var = moving_mean.detach(), moving_var.detach()
        return Y
''',
        # Accepts eps and momentum but passes the section's constants to batch_norm: the
        # public test builds BatchNorm(3) with the defaults, where they agree.
        '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, X):
        if self.training:
            self.num_batches_tracked += 1
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, 1e-5, 0.1,
            self.training)
        if self.training:
            self.moving_mean, self.moving_var = moving_mean, moving_var
        return Y
''',
        # Holds the right parameters and buffers but calls F.batch_norm in forward (which
        # updates the buffers in place): right in every mode, but the layer must run your
        # batch_norm, and torch.nn.functional.batch_norm is forbidden.
        '''
from torch.nn import functional as F


class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, X):
        momentum = self.momentum
        if self.training:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        return F.batch_norm(X, self.moving_mean, self.moving_var, self.gamma, self.beta,
                            self.training, momentum or 0.0, self.eps)
''',
        # Reads momentum=None as "the default": an exponential average with 0.1, which one
        # public training step cannot tell from the plain average.
        '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, 0.1 if momentum is None else momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, X):
        if self.training:
            self.num_batches_tracked += 1
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, self.momentum, self.training)
        if self.training:
            self.moving_mean, self.moving_var = moving_mean, moving_var
        return Y
''',
        # Uses 1 / (k + 1) at the k-th step, one more than the steps so far: the first step
        # keeps half of the starting statistics instead of replacing them.
        '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, X):
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training:
            self.num_batches_tracked += 1
            if self.momentum is None:
                momentum = 1 / (self.num_batches_tracked.item() + 1)
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, momentum, self.training)
        if self.training:
            self.moving_mean, self.moving_var = moving_mean, moving_var
        return Y
''',
    ],
    "q3": [
        # Plain LeNet of section 7.6 (no batch norm) trained with the same budget: right output
        # shape and mode, but at lr 0.3 with momentum its sigmoids saturate (accuracy 0.10).
        '''
from cnnlib.models.lenet import LeNet

torch.manual_seed(0)
bn_net = LeNet()
config = TrainConfig(epochs=3, lr=0.3, momentum=0.9, schedule="cosine",
                     live_plot=False, progress=False)
history = Trainer(config).fit(bn_net, data)
bn_net.eval()
''',
        # Trains one epoch instead of three to save time: BN-LeNet already clears the 0.74
        # floor after one, so the accuracy alone cannot tell. (To keep this check fast the
        # run is not repeated: bn_net stays the solution's network, and `history` is what a
        # one-epoch fit returns.)
        '''
from cnnlib.training import History

config = TrainConfig(epochs=1, lr=0.3, momentum=0.9, schedule="cosine",
                     live_plot=False, progress=False)
history = History()
history.append(train_loss=0.62, train_acc=0.78, val_loss=0.55, val_acc=0.79, seconds=4.0,
               images_per_s=2500.0)
''',
        # Copies section 7.6's LeNet, padding 2 on the first convolution and all (so the first
        # dense layer reads 16 * 5 * 5 values), and adds batch norm: another network than the
        # section's BN-LeNet. (Not trained here, to keep the check fast: its layers give it
        # away whatever its weights.)
        '''
torch.manual_seed(0)
bn_net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), BatchNorm(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), BatchNorm(120), nn.Sigmoid(),
    nn.Linear(120, 84), BatchNorm(84), nn.Sigmoid(),
    nn.Linear(84, 10)).eval()
''',
        # Swaps the sigmoids for ReLUs, which train at least as well with batch norm: a good
        # network, but not the one asked for. (Not trained here either.)
        '''
torch.manual_seed(0)
bn_net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6), nn.ReLU(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16), nn.ReLU(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16 * 4 * 4, 120), BatchNorm(120), nn.ReLU(),
    nn.Linear(120, 84), BatchNorm(84), nn.ReLU(),
    nn.Linear(84, 10)).eval()
''',
    ],
    "q4": [
        # "Batch norm removes the bias in both modes" (b): in evaluation mode the moving mean
        # is fixed, so a shift of the input passes through, scaled by gamma / sqrt(var).
        '''
q4_answer = {"a": True, "b": True, "c": False, "d": True}
''',
        # "Each example is normalised on its own" (c), and so "a batch of one is normalised
        # like any other" (d): both forget that the statistics are taken over the batch.
        '''
q4_answer = {"a": True, "b": False, "c": True, "d": False}
''',
        # "The mean is learnt again by beta, so the bias still matters" (a): the batch mean
        # takes every constant shift out before beta is added.
        '''
q4_answer = {"a": False, "b": False, "c": False, "d": True}
''',
    ],
    "q5": [
        # Takes the unbiased variance of the two values, (a - b)^2 / 2, as the one batch
        # norm divides by: 1 / sqrt(2).
        '''
q5_answer = {"value": 0.7071, "reason": "A"}
''',
        # "Normalised values are 0 on average, so they are 0": the mean of +1 and -1.
        '''
q5_answer = {"value": 0.0, "reason": "A"}
''',
        # The right value, but believes training mode normalises with the moving averages.
        '''
q5_answer = {"value": 1.0, "reason": "B"}
''',
        # The right value, but believes evaluation trains gamma and beta.
        '''
q5_answer = {"value": 1.0, "reason": "C"}
''',
    ],
}
