/** The shapes of the dashboard's data: progress tables (inlined in the page) and the
 * agreement API's answer. Hand-written: the progress and agreement APIs answer plain objects
 * made by their selectors, which the OpenAPI schema describes only as `object`. */

export interface ReaderProgress {
  reader: string;
  assigned: number;
  in_progress: number;
  completed: number;
  withdrawn: number;
  /** Completed reads with reading time measured by the viewer: the basis of the speed. */
  measured_reads: number;
  reading_hours: number;
  scans_per_hour: number | null;
  seconds_per_slice: number | null;
}

export interface DayProgress {
  day: string;
  completed: number;
}

export interface ProgressData {
  readers: ReaderProgress[];
  days: DayProgress[];
}

/** A statistic with its bootstrap interval; null where undefined (e.g. no positive rating). */
export interface Estimate {
  estimate: number | null;
  ci_low: number | null;
  ci_high: number | null;
}

export interface AgreementRow {
  label: string;
  level: "slice" | "scan";
  n_items: number;
  fleiss_kappa: Estimate;
  krippendorff_alpha: Estimate;
  mean_cohen_kappa: Estimate;
  percent_agreement: Estimate;
  prevalence: Estimate;
}

/** Cohen's kappa of each pair of readers (by identity) for one label and level. */
export interface PairMatrix {
  label: string;
  level: "slice" | "scan";
  readers: string[];
  kappa: (number | null)[][];
  n_items: number[][];
}

export interface WeekAgreement {
  week: string;
  week_start: string;
  scans: number;
  fleiss_kappa: number | null;
  cumulative_scans: number;
  cumulative_fleiss_kappa: number | null;
}

export interface AgreementReport {
  scans: number;
  reads: number;
  n_boot: number;
  ci_level: number;
  table: AgreementRow[];
  pairwise: PairMatrix[];
  over_time: WeekAgreement[];
}
