"""Plausible wrong answers for assignment 7.6, several per question.

Each passes the public tests and is caught by grading: it fails a hidden test, or it calls
something its question forbids (the `forbids:` list of the question's YAML). The q3 ones
do not train (that would take seconds each): they rebuild what a shorter or different run
would leave behind, from the solution's trained network.
"""

WRONG = {
    "q1": [
        # Rounds up when pooling halves an odd size ((n + 1) // 2): every size in the public
        # examples is even, so only the hidden odd input sizes show it.
        '''
def flat_features(input_size, padding=2, channels=16):
    side = input_size + 2 * padding - 4
    side = (side + 1) // 2
    side = side - 4
    side = (side + 1) // 2
    return channels * side * side
''',
        # Halves with round(): Python rounds x.5 to the even neighbour, so an odd size is
        # sometimes rounded down (right) and sometimes up (wrong). The public sizes are even.
        '''
def flat_features(input_size, padding=2, channels=16):
    side = round((input_size + 2 * padding - 4) / 2)
    side = round((side - 4) / 2)
    return channels * side * side
''',
        # Runs the encoder on a blank image and reads the size off the result: right, but the
        # prompt says not to run any layers, and q1 forbids constructing them.
        '''
def flat_features(input_size, padding=2, channels=16):
    encoder = nn.Sequential(
        nn.Conv2d(1, 1, kernel_size=5, padding=padding), nn.MaxPool2d(2, stride=2),
        nn.Conv2d(1, channels, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.Flatten())
    with torch.no_grad():
        return encoder(torch.zeros(1, 1, input_size, input_size)).shape[1]
''',
    ],
    "q2": [
        # Hard-codes the first dense layer's input as 16 * 5 * 5: right for the default
        # channels of the public table, wrong as soon as the second convolution has other than 16.
        '''
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
        # Copies the section's 6 into the second convolution's input channels: right for the
        # default channels=(6, 16), a shape error for any other first convolution.
        '''
def lenet_variant(channels=(6, 16), num_classes=10):
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, c2, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(c2 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes))
''',
        # Forgets num_classes: always 10 outputs, like the public table.
        '''
def lenet_variant(channels=(6, 16), num_classes=10):
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(c1, c2, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(c2 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
''',
    ],
    "q3": [
        # Builds the network and switches it to evaluation mode but never trains it: right
        # shape and mode for the public test, about 0.10 accuracy on the hidden test images.
        '''
torch.manual_seed(0)
net = lenet_variant()
net.eval()
''',
        # Trains 1 epoch instead of 3, and still clears the accuracy floor. (Stands for
        # `config = TrainConfig(epochs=1, ...)`, `history = Trainer(config).fit(net, data)`:
        # the 1-epoch settings and record, with the solution's weights to keep this fast.)
        '''
from cnnlib.training.history import History

config = TrainConfig(epochs=1, lr=0.01, optimizer="adam", schedule="cosine",
                     live_plot=False, progress=False)
history = History()
history.append(train_loss=0.75, train_acc=0.72, val_loss=0.55, val_acc=0.79, seconds=4.0,
               images_per_s=2500.0)
''',
        # The book's SGD with lr 0.1 instead of Adam with lr 0.01 and a cosine decay, for the
        # same 3 epochs, and still above the floor. (The settings and a 3-epoch record; the
        # solution's weights stand for the network such a run would leave.)
        '''
from cnnlib.training.history import History

config = TrainConfig(epochs=3, lr=0.1, optimizer="sgd", live_plot=False, progress=False)
history = History()
for epoch in range(3):
    history.append(train_loss=0.9 - 0.1 * epoch, train_acc=0.68 + 0.04 * epoch,
                   val_loss=0.7 - 0.05 * epoch, val_acc=0.74 + 0.03 * epoch, seconds=4.0,
                   images_per_s=2500.0)
''',
        # Trains another network: adds a dropout layer after the first dense layer (as later
        # chapters do). In evaluation mode dropout passes everything through, so the trained
        # weights (the solution's, here) give the same accuracy; only the layers differ.
        '''
import copy

layers = list(copy.deepcopy(net))
net = nn.Sequential(*layers[:8], nn.Dropout(0.5), *layers[8:])
net.eval()
''',
        # Trains on all 60,000 training images instead of the 10,000 of the budget. (The data
        # module it would use; the solution's weights stand for the network.)
        '''
data = FashionMNIST(batch_size=64)
''',
    ],
    "q4": [
        # "The sigmoid's slope at 0 is 1, like tanh's": overestimates the derivative.
        '''
q4_answer = {"sigmoid": False, "relu": True, "avg_pool": True, "max_pool": False,
             "reason": "A"}
''',
        # "Max pooling passes the gradient on unchanged": forgets that only the cell that
        # won the maximum influenced the output.
        '''
q4_answer = {"sigmoid": True, "relu": True, "avg_pool": True, "max_pool": True,
             "reason": "B"}
''',
        # The right statements, but credits the optimizer with larger gradients.
        '''
q4_answer = {"sigmoid": True, "relu": True, "avg_pool": True, "max_pool": False,
             "reason": "C"}
''',
    ],
    "q5": [
        # Weights only: forgets the 6 + 16 + 120 + 84 + 10 biases.
        '''
q5_answer = {"total": 150 + 2400 + 48000 + 10080 + 840, "largest": "fc1",
             "total_padding_0": 150 + 2400 + 256 * 120 + 10080 + 840}
''',
        # "Convolutions are the expensive layers", and "padding adds no parameters".
        '''
q5_answer = {"total": 61706, "largest": "conv2", "total_padding_0": 61706}
''',
        # Right total and layer, but keeps fc1 at 400 inputs without the padding.
        '''
q5_answer = {"total": 61706, "largest": "fc1", "total_padding_0": 61706}
''',
    ],
}
