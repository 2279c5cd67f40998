"""Planted mistakes in exercise 3 (MSE and BCE-with-logits): each must score below full marks with its hint in the
feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MSE_GRAD = "return 2.0 * self.diff / self.diff.size"
BCE_FORWARD = "per_entry = np.maximum(pred, 0) - target * pred + np.log1p(np.exp(-np.abs(pred)))"
BCE_GRAD = "return (sigmoid(self.z) - self.target) / self.z.size"

MISTAKES = {
    "bce-hard-coded-clip": ([(BCE_FORWARD, "p = np.clip(sigmoid(pred), 1e-7, 1 - 1e-7)\n"
                                           "        per_entry = -(target * np.log(p) + (1 - target) * np.log(1 - p))")],
                            "a clip of the probability"),
    "bce-clipped-logits": ([(BCE_FORWARD, "zc = np.clip(pred, -30, 30)\n"
                                          "        per_entry = np.log1p(np.exp(zc)) - target * zc")],
                           "a clip of the probability (or of the logits)"),
    "bce-naive-softplus": ([(BCE_FORWARD, "per_entry = np.log1p(np.exp(pred)) - target * pred")],
                           "exp of a large argument overflowed"),
    "bce-log-of-sigmoid": ([(BCE_FORWARD, "p = sigmoid(pred)\n"
                                          "        per_entry = -(target * np.log(p) + (1 - target) * np.log(1 - p))")],
                           "divide by zero encountered in log"),
    "bce-delegates-to-miniae": ([(BCE_FORWARD, "return BCE(from_logits=True).forward(pred, target)"),
                                 ("from miniae import Loss, gradcheck", "from miniae import BCE, Loss, gradcheck")],
                                "calls miniae's BCE"),
    "bce-grad-sign": ([(BCE_GRAD, "return (self.target - sigmoid(self.z)) / self.z.size")], "a sign error"),
    "bce-grad-no-mean": ([(BCE_GRAD, "return sigmoid(self.z) - self.target")], "missing 1/(N*D)"),
    "mse-no-factor-2": ([(MSE_GRAD, "return self.diff / self.diff.size")], "the factor 2"),
    "mse-batch-mean-only": ([(MSE_GRAD, "return 2.0 * self.diff / len(self.diff)")], "divided by N (the batch) only"),
    "mse-sign": ([(MSE_GRAD, "return -2.0 * self.diff / self.diff.size")], "a sign slip"),
}
