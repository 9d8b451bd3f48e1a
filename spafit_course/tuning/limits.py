"""Token limits of a sequence (lessons 00 and 05), shared by the profiles and the adapter format."""

#: The position limit of every BERT-family checkpoint the course supports, and the least that leaves room for
#: [CLS], two [SEP] and one word (below it the tokenizers ignore the limit).
MIN_LENGTH, MAX_POSITIONS = 4, 512
