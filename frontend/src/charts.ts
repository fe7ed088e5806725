/**
 * Chart.js for every page, registered once: only the parts the charts use (bar and line charts,
 * category, linear and logarithmic axes, legend, tooltip), so the bundles stay small. Page
 * modules import `Chart` from here, never from "chart.js" directly.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
);

export { Chart };
export type { ChartDataset } from "chart.js";
