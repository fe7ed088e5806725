"""Statistics of reader studies: multi-reader multi-case comparisons of reading modalities."""
