"""Plausible wrong answers for assignment 7.6. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Rounds up when pooling halves an odd size ((n + 1) // 2): every size in the public
    # examples is even, so only the hidden odd input sizes show it.
    "q1": '''
def flat_features(input_size, padding=2, channels=16):
    side = input_size + 2 * padding - 4
    side = (side + 1) // 2
    side = side - 4
    side = (side + 1) // 2
    return channels * side * side
''',
    # Hard-codes the first dense layer's input as 16 * 5 * 5: right for the default
    # channels of the public table, wrong as soon as the second convolution has other than 16.
    "q2": '''
def lenet_variant(channels=(6, 16), num_classes=10):
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(c1, c2, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes))
''',
    # Builds the network and switches it to evaluation mode but never trains it: right
    # shape and mode for the public test, about 0.10 accuracy on the hidden test images.
    "q3": '''
torch.manual_seed(0)
net = lenet_variant()
net.eval()
''',
}
