import { Dashboard } from '../../../components/dashboard/Dashboard.tsx';
import { DashboardHeading } from '../../../components/dashboard/DashboardHeading.tsx';

export default function DashboardPage() {
  return (
    <>
      <DashboardHeading />
      <Dashboard />
    </>
  );
}
