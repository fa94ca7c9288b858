"""Display only: book-ready tables, figures and teaching widgets. Computes nothing."""
